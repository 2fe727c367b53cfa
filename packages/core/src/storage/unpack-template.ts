/**
 * Unpacks a PGlite template (`dumpDataDir('gzip')`: a gzipped ustar archive of directories and
 * regular files) straight onto disk, streaming. PGlite's own `loadDataDir` does the same work
 * inside the PGlite instance: it holds the whole unzipped archive (≈40 MiB) and grows the
 * process by ≈100 MiB that stays until a full GC, so a server started cold idled at ≈330 MiB
 * RSS against ≈240 MiB started warm. Unpacked here, the first open is an ordinary open of an
 * existing directory. The core ships no tar dependency, and the format it must read is this
 * small subset, hence these few lines.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { createGunzip } from 'node:zlib';

const BLOCK = 512;

export async function unpackTemplate(file: string, dir: string): Promise<void> {
  const handle = await open(file);
  try {
    const reader = new ChunkReader(
      handle
        .createReadStream({ highWaterMark: 1 << 20 })
        .pipe(createGunzip({ chunkSize: 1 << 20 }))
        [Symbol.asyncIterator](),
    );
    mkdirSync(dir, { recursive: true });
    for (;;) {
      const header = await reader.take(BLOCK);
      if (!header || header.every((byte) => byte === 0)) break; // end-of-archive blocks
      const entry = parseHeader(header);
      const target = inside(dir, entry.name);
      if (entry.type === 'directory') mkdirSync(target, { recursive: true });
      else if (entry.type === 'file') await writeEntry(reader, target, entry.size);
      else await reader.skip(entry.size);
      await reader.skip((BLOCK - (entry.size % BLOCK)) % BLOCK);
    }
  } finally {
    await handle.close();
  }
}

interface Entry {
  name: string;
  size: number;
  type: 'file' | 'directory' | 'other';
}

function parseHeader(header: Buffer): Entry {
  const text = (start: number, length: number) => {
    const raw = header.subarray(start, start + length);
    const end = raw.indexOf(0);
    return raw.subarray(0, end === -1 ? length : end).toString('utf8');
  };
  const prefix = text(345, 155);
  const name = prefix ? `${prefix}/${text(0, 100)}` : text(0, 100);
  const size = Number.parseInt(text(124, 12).trim() || '0', 8);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`template: bad size for ${name}`);
  const flag = String.fromCharCode(header[156] ?? 0);
  const type = flag === '5' ? 'directory' : flag === '0' || flag === '\0' ? 'file' : 'other';
  return { name, size, type };
}

/** PGlite writes absolute member names (`/base/1/…`); nothing may land outside `dir`. */
function inside(dir: string, name: string): string {
  const relative = normalize(name.replace(/^\/+/, ''));
  if (relative === '..' || relative.startsWith(`..${sep}`)) throw new Error(`template: ${name} leaves the directory`);
  return join(dir, relative);
}

async function writeEntry(reader: ChunkReader, target: string, size: number): Promise<void> {
  mkdirSync(dirname(target), { recursive: true });
  const fd = openSync(target, 'w', 0o600);
  try {
    for (let left = size; left > 0; ) {
      const chunk = await reader.take(left, true);
      if (!chunk) throw new Error(`template: ${target} is cut short`);
      writeSync(fd, chunk);
      left -= chunk.length;
    }
  } finally {
    closeSync(fd);
  }
}

/** Exact-sized reads over a stream of chunks. */
class ChunkReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** `n` bytes (null at the end of the stream), or with `upTo` whatever is buffered, at most `n`. */
  async take(n: number, upTo = false): Promise<Buffer | null> {
    while (this.buffered < (upTo ? 1 : n)) {
      const next = await this.source.next();
      if (next.done) return null;
      this.chunks.push(next.value);
      this.buffered += next.value.length;
    }
    const wanted = Math.min(n, this.buffered);
    const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    const taken = all.subarray(0, wanted);
    const rest = all.subarray(wanted);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return taken;
  }

  async skip(n: number): Promise<void> {
    for (let left = n; left > 0; ) {
      const chunk = await this.take(left, true);
      if (!chunk) throw new Error('template: archive is cut short');
      left -= chunk.length;
    }
  }
}
