/**
 * Start-up and memory, as a user meets them: every measurement is a new process, spawned from
 * here, timed from spawn to its first `/healthz` 200 (servers) or to its exit (scripts).
 *
 * - server: `node packages/server/dist/bundle/main.js serve` (the built, bundled CLI: what `npm start` runs) on the
 *   embedded PGlite database, cold (new data directory: the shipped template is unpacked and
 *   migrated) and warm (the same directory again). Idle RSS is read from /proc after `idleMs`.
 * - baselines: `node -e 0`, and bench/startup-bare-pglite.mjs, which only opens PGlite on the
 *   same kind of directory (cold: loading the same template; warm: the server's own directory)
 *   and answers `select 1` over node:http.
 * - the embedding example: the first ```ts block of docs/embedding.md, type-stripped with
 *   TypeScript's transpileModule and run with plain node against the built packages.
 *
 * The kinds are interleaved run by run, so a neighbour's load weighs on all of them alike.
 * Each child records its own peak RSS (VmHWM) at exit through a small `--import` hook.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createScratchDatabase } from '@slipway/core/testing/databases';
import ts from 'typescript';

export type StartupKind = 'node' | 'bare-cold' | 'server-cold' | 'bare-warm' | 'server-warm' | 'embedding';

export interface StartupSample {
  /** Spawn → first /healthz 200 (servers) or → exit (scripts). */
  readyMs: number;
  peakRssMiB: number | null;
  /** Servers only: RSS after `idleMs` of doing nothing. */
  idleRssMiB: number | null;
}

export interface StartupRun {
  kind: StartupKind;
  samples: StartupSample[];
}

export interface StartupOptions {
  root: string;
  runs: number;
  idleMs: number;
  /** Server on which each embedding-example run gets a new empty database (DATABASE_URL). */
  adminUrl: string;
  progress: (line: string) => void;
}

const SERVER_MAIN = 'packages/server/dist/bundle/main.js';
const TEMPLATE = 'packages/core/dist/pglite-template.tar.gz';
const BARE = 'bench/startup-bare-pglite.mjs';
/** The data directory goes through SLIPWAY_DATA_DIR, the port through PORT. */
const SERVER = [SERVER_MAIN, 'serve'];
const READY_TIMEOUT_MS = 120_000;

/** What the section needs from a build (`npm run build`); empty when all is there. */
export function startupMissing(root: string): string[] {
  return [SERVER_MAIN, TEMPLATE].filter((file) => !existsSync(join(root, file)));
}

export async function benchStartup(opts: StartupOptions): Promise<StartupRun[]> {
  const example = writeEmbeddingExample(opts.root);
  const runs = new Map<StartupKind, StartupSample[]>();
  const add = (kind: StartupKind, sample: StartupSample) => {
    runs.set(kind, [...(runs.get(kind) ?? []), sample]);
    const idle = sample.idleRssMiB === null ? '' : `, idle ${sample.idleRssMiB.toFixed(0)} MiB`;
    opts.progress(`startup ${kind}: ${sample.readyMs.toFixed(0)} ms, peak ${sample.peakRssMiB?.toFixed(0)} MiB${idle}`);
  };
  const work = await mkdtemp(join(tmpdir(), 'slipway-bench-startup-'));
  workDir = work;
  try {
    for (let i = 0; i < opts.runs; i += 1) {
      const serverDir = join(work, `server-${i}`);
      const bareDir = join(work, `bare-${i}`);
      add('node', await runToExit(opts.root, ['-e', '0'], {}));
      add('server-cold', await startServer(opts, SERVER, { SLIPWAY_DATA_DIR: serverDir }));
      add('bare-cold', await startServer(opts, [BARE, join(bareDir, 'pgdata'), '{port}', join(opts.root, TEMPLATE)]));
      add('server-warm', await startServer(opts, SERVER, { SLIPWAY_DATA_DIR: serverDir }));
      add('bare-warm', await startServer(opts, [BARE, join(serverDir, 'pgdata'), '{port}']));
      add('embedding', await runExample(opts, example, join(work, `example-${i}`)));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return [...runs].map(([kind, samples]) => ({ kind, samples }));
}

/** The docs' example as plain JavaScript, beside the repository's node_modules. */
function writeEmbeddingExample(root: string): string {
  const markdown = readFileSync(join(root, 'docs/embedding.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(markdown)?.[1];
  if (!block) throw new Error('docs/embedding.md has no ```ts block');
  const { outputText } = ts.transpileModule(block, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const dir = join(root, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'embedding-example.mjs');
  writeFileSync(file, outputText);
  return file;
}

async function runExample(opts: StartupOptions, file: string, cwd: string): Promise<StartupSample> {
  mkdirSync(cwd, { recursive: true });
  const scratch = await createScratchDatabase('slipway_bench_example', opts.adminUrl);
  try {
    return await runToExit(cwd, [file], { DATABASE_URL: scratch.url });
  } finally {
    await scratch.drop();
  }
}

async function runToExit(cwd: string, args: string[], env: Record<string, string>): Promise<StartupSample> {
  const rssFile = peakRssFile();
  const started = performance.now();
  const child = spawnNode(cwd, args, env, rssFile);
  const code = await exited(child);
  const readyMs = performance.now() - started;
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code}: ${child.stderrTail()}`);
  return { readyMs, peakRssMiB: readPeakRss(rssFile), idleRssMiB: null };
}

/** `{port}` in args is replaced by a free port; the server gets it as PORT too. */
async function startServer(
  opts: StartupOptions,
  args: string[],
  env: Record<string, string> = {},
): Promise<StartupSample> {
  const port = await freePort();
  const rssFile = peakRssFile();
  const started = performance.now();
  const child = spawnNode(
    opts.root,
    args.map((a) => (a === '{port}' ? String(port) : a)),
    { ...env, PORT: String(port) },
    rssFile,
  );
  const exit = exited(child);
  try {
    await untilHealthy(`http://127.0.0.1:${port}/healthz`, exit, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const readyMs = performance.now() - started;
  await sleep(opts.idleMs);
  const idleRssMiB = procRssMiB(child.pid);
  child.kill('SIGTERM');
  const code = await exit;
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code} on SIGTERM: ${child.stderrTail()}`);
  return { readyMs, peakRssMiB: readPeakRss(rssFile), idleRssMiB };
}

const PEAK_RSS_HOOK = `import { readFileSync, writeFileSync } from 'node:fs';
process.on('exit', () => {
  let kib = process.resourceUsage().maxRSS;
  try {
    kib = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
  } catch {}
  writeFileSync(process.env.BENCH_PEAK_RSS_FILE, String(kib));
});`;

type Child = ChildProcess & { stderrTail(): string };

function spawnNode(cwd: string, args: string[], env: Record<string, string>, rssFile: string): Child {
  // At exit the child writes its peak RSS (KiB) where BENCH_PEAK_RSS_FILE says: VmHWM, since
  // resourceUsage().maxRSS survives exec and so can report the forking parent's size.
  const hook = `data:text/javascript,${encodeURIComponent(PEAK_RSS_HOOK)}`;
  const child = spawn(process.execPath, [`--import=${hook}`, ...args], {
    cwd,
    // NODE_OPTIONS is dropped: the bench itself may run with tsx or source conditions.
    env: { ...process.env, NODE_OPTIONS: '', ...env, BENCH_PEAK_RSS_FILE: rssFile },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  return Object.assign(child, { stderrTail: () => stderr.trim() });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

async function untilHealthy(url: string, exit: Promise<number | null>, child: Child): Promise<void> {
  let gone = false;
  void exit.then(() => {
    gone = true;
  });
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (gone) throw new Error(`exited before ${url} answered: ${child.stderrTail()}`);
    const ok = await fetch(url).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await sleep(20);
  }
  throw new Error(`${url} did not answer 200 within ${READY_TIMEOUT_MS / 1000} s`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** A new file per child in the section's work directory (removed with it). */
const peakRssFile = () => join(workDir, `peak-rss-${randomUUID()}`);
let workDir = tmpdir();

function readPeakRss(file: string): number | null {
  try {
    const kib = Number(readFileSync(file, 'utf8'));
    return Number.isFinite(kib) ? kib / 1024 : null;
  } catch {
    return null;
  }
}

/** VmRSS from /proc (Linux); null elsewhere. */
function procRssMiB(pid: number | undefined): number | null {
  try {
    const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? Number(kib) / 1024 : null;
  } catch {
    return null;
  }
}
