/**
 * Smoke test of the real CLI: spawns `node --conditions=@slipway/source --import tsx src/main.ts` processes on a temp
 * data dir, talks HTTP to them, stops them with SIGTERM and restarts on the same data.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(SERVER_DIR, 'src/main.ts');
// The bin runs the built, bundled dist/bundle/main.js: `npm test` brings dist up to date first (root `pretest`).
const BIN = join(SERVER_DIR, 'bin/slipway.mjs');

interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function cleanEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', SLIPWAY_DATA_DIR: dataDir };
  for (const name of ['DATABASE_URL', 'SLIPWAY_JWT_SECRET', 'INIT_CWD', 'PROVISIONER_DEMO', 'LOG_LEVEL'])
    delete env[name];
  return env;
}

function start(args: string[], dataDir: string, opts: { entry?: string[]; env?: NodeJS.ProcessEnv } = {}): Proc {
  const entry = opts.entry ?? ['--conditions=@slipway/source', '--import', 'tsx', MAIN];
  const env = { ...cleanEnv(dataDir), ...opts.env };
  const child = spawn(process.execPath, [...entry, ...args], { cwd: SERVER_DIR, env });
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitFor(proc: Proc, pattern: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = proc.stdout().match(pattern);
    if (match) return match;
    if (proc.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${pattern} in output.\nstdout: ${proc.stdout()}\nstderr: ${proc.stderr()}`);
}

async function serve(dataDir: string): Promise<{ proc: Proc; url: string; token: string }> {
  const proc = start(['serve'], dataDir);
  const [, url] = (await waitFor(proc, /Slipway ready at (http:\/\/\S+)\n/)) as unknown as [string, string];
  const [, token] = (await waitFor(proc, /export SLIPWAY_TOKEN=(\S+)\n/)) as unknown as [string, string];
  return { proc, url, token };
}

async function gql(url: string, token: string, query: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as Record<string, unknown>;
}

async function stop(proc: Proc): Promise<number | null> {
  proc.child.kill('SIGTERM');
  return proc.exited;
}

describe('slipway CLI', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-cli-'));
  const running: Proc[] = [];
  afterAll(() => {
    for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('migrates, serves, stops cleanly, keeps data across restarts and refuses a second process', {
    timeout: 180_000,
  }, async () => {
    const migrate = start(['migrate'], dataDir);
    expect(await migrate.exited, migrate.stderr()).toBe(0);
    expect(migrate.stdout()).toContain(`PGlite in ${dataDir}`);

    const run1 = await serve(dataDir);
    running.push(run1.proc);
    const health = await fetch(new URL('/healthz', run1.url));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(await gql(run1.url, run1.token, '{ me { id role } }')).toEqual({
      data: { me: { id: 'admin', role: 'ADMIN' } },
    });
    const granted = await gql(
      run1.url,
      run1.token,
      'mutation { grantCredits(input: { accountId: "alice", amount: 42 }) { ... on MutationGrantCreditsSuccess { data { balance } } } }',
    );
    expect(granted).toEqual({ data: { grantCredits: { data: { balance: 42 } } } });
    await gql(
      run1.url,
      run1.token,
      'mutation { grantCredits(input: { accountId: "admin", amount: 100 }) { __typename } }',
    );
    const created = (await gql(
      run1.url,
      run1.token,
      'mutation { createResource(input: { name: "keeper", provisioner: "demo", spec: { vcpu: 1, memoryMb: 512, diskGb: 0 } }) { ... on MutationCreateResourceSuccess { data { id status } } } }',
    )) as { data: { createResource: { data: { id: string; status: string } } } };
    expect(created.data.createResource.data.status).toBe('RUNNING');
    const keeper = created.data.createResource.data.id;
    expect(existsSync(join(dataDir, 'slipway.lock'))).toBe(true);
    expect(await stop(run1.proc), run1.proc.stderr()).toBe(0);
    expect(existsSync(join(dataDir, 'slipway.lock'))).toBe(false);

    // A token minted by the CLI (same generated secret) works on the next run.
    const tokenCmd = start(['token', '--user', 'alice', '--expires', '1h'], dataDir, { entry: [BIN] });
    expect(await tokenCmd.exited, tokenCmd.stderr()).toBe(0);
    const aliceToken = tokenCmd.stdout().trim();
    expect(aliceToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const run2 = await serve(dataDir);
    running.push(run2.proc);
    expect(await gql(run2.url, aliceToken, '{ me { id balance } }')).toEqual({
      data: { me: { id: 'alice', balance: 42 } },
    });
    // The demo provisioner keeps its machines in the database: still running after a restart.
    expect(
      await gql(
        run2.url,
        run2.token,
        `mutation { refreshResource(id: "${keeper}") { ... on MutationRefreshResourceSuccess { data { status } } } }`,
      ),
    ).toEqual({ data: { refreshResource: { data: { status: 'RUNNING' } } } });

    const second = start(['serve'], dataDir);
    running.push(second);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/SLIPWAY_DATA_DIR/);
    expect(second.stderr()).not.toMatch(/\n\s+at /); // one line, no stack trace

    expect(await stop(run2.proc), run2.proc.stderr()).toBe(0);
    expect(existsSync(join(dataDir, 'slipway.lock'))).toBe(false);
  });

  it('prints a config error naming the variable and exits 1', { timeout: 60_000 }, async () => {
    const bad = start(['serve'], dataDir, { env: { PORT: 'abc' } });
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toMatch(/^slipway: PORT: /);
  });
});
