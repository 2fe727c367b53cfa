import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unpackTemplate } from '../src/storage/unpack-template.js';

/** One ustar member as PGlite's dumpDataDir writes it: absolute name, octal size, type flag. */
function member(name: string, type: '0' | '5', body = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  header.write(type, 156, 1, 'ascii');
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding]);
}

const archive = (...members: Buffer[]) => gzipSync(Buffer.concat([...members, Buffer.alloc(1024)]));

describe('unpackTemplate', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'slipway-unpack-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('writes directories and files of any size under the target', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 'x'); // spans several read chunks, unaligned
    const file = join(work, 'template.tar.gz');
    writeFileSync(
      file,
      archive(
        member('/pg_wal', '5'),
        member('/PG_VERSION', '0', Buffer.from('17\n')),
        member('/base/1/1259', '0', big),
      ),
    );
    await unpackTemplate(file, join(work, 'pgdata'));
    expect(existsSync(join(work, 'pgdata/pg_wal'))).toBe(true);
    expect(readFileSync(join(work, 'pgdata/PG_VERSION'), 'utf8')).toBe('17\n');
    expect(readFileSync(join(work, 'pgdata/base/1/1259')).equals(big)).toBe(true);
  });

  it('refuses a member that would land outside the target', async () => {
    const file = join(work, 'evil.tar.gz');
    writeFileSync(file, archive(member('/../escaped', '0', Buffer.from('x'))));
    await expect(unpackTemplate(file, join(work, 'pgdata'))).rejects.toThrow(/leaves the directory/);
    expect(existsSync(join(work, 'escaped'))).toBe(false);
  });
});
