/**
 * Packs every workspace package, installs the tarballs into a new project outside the workspace
 * (os.tmpdir()), and uses them there the way an embedder, a plugin author and an operator would:
 * plain `node` on the core, the embedding example from docs/embedding.md, the conformance kit on a
 * third-party provisioner, `npx slipway --help`, and the installed server serving the dashboard
 * at `/`. Slow (a build, five packs, an install): minutes.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CORE_SMOKE_MJS,
  firstTsBlock,
  HELLO_CONFORMANCE_TEST_TS,
  HELLO_PROVISIONER_TS,
  TSCONFIG_JSON,
} from './consumer-files.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STEP_TIMEOUT_MS = 300_000;

interface Result {
  code: number;
  output: string;
  stdout: string;
}

/** Runs a command to its end; never throws, so a failing step shows its output in the assertion. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = consumerEnv()): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, output: `$ ${cmd} ${args.join(' ')}\n${stdout}\n${stderr}` });
    });
  });
}

/**
 * The environment of someone outside the workspace: none of the npm, vitest or Node settings this
 * test runs under (npm_config_*, VITEST_*, NODE_OPTIONS), no DATABASE_URL (the examples use PGlite).
 */
function consumerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|NODE_OPTIONS$|NODE_ENV$|TEST$|INIT_CWD$|DATABASE_URL$|FORCE_COLOR$)/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, NO_COLOR: '1' };
}

const readJson = <T>(...path: string[]): T => JSON.parse(readFileSync(join(ROOT, ...path), 'utf8')) as T;

/** Workspace packages published to npm: all but private ones (the dashboard, whose build the server ships). */
const publishedDirs = (): string[] =>
  readdirSync(join(ROOT, 'packages'))
    .filter((dir) => !readJson<{ private?: boolean }>('packages', dir, 'package.json').private)
    .sort();

const installedVersion = (name: string): string =>
  readJson<{ version: string }>('node_modules', name, 'package.json').version;

interface PackageJson {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface PackedFile {
  path: string;
}
interface Packed {
  name: string;
  filename: string;
  files: PackedFile[];
}

describe('packages installed from their tarballs, outside the workspace', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'slipway-pack-'));
  const tarballDir = join(scratch, 'tarballs');
  const project = join(scratch, 'app');
  let packed: Packed[] = [];

  beforeAll(async () => {
    // A no-op after `npm test`'s pretest build (tsc is incremental, the template is rewritten only
    // when stale), so it does not rewrite dist/ under the tests running beside this one.
    const build = await run('npm', ['run', '-s', 'build'], ROOT, process.env);
    expect(build.code, build.output).toBe(0);
    mkdirSync(tarballDir);
    const workspaces = publishedDirs().flatMap((dir) => ['-w', `packages/${dir}`]);
    const pack = await run('npm', ['pack', ...workspaces, '--json', '--pack-destination', tarballDir], ROOT);
    expect(pack.code, pack.output).toBe(0);
    packed = JSON.parse(pack.stdout) as Packed[];

    mkdirSync(join(project, 'src'), { recursive: true });
    mkdirSync(join(project, 'test'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // The workspace install warmed npm's cache with these versions; --prefer-offline uses it first.
    const devTools = ['typescript', 'vitest', '@types/node'].map((name) => `${name}@${installedVersion(name)}`);
    const tarballs = packed.map((p) => join(tarballDir, p.filename));
    const install = await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs, ...devTools],
      project,
    );
    expect(install.code, install.output).toBe(0);
  }, 2 * STEP_TIMEOUT_MS);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  // A missing reference is no tsc error: the dependent would silently typecheck the dependency's src again.
  it("lists each package's @slipway dependencies as project references in its tsconfig.build.json", () => {
    const packageDirs = publishedDirs();
    const rootBuild = readJson<{ references: { path: string }[] }>('tsconfig.build.json');
    expect(rootBuild.references.map((r) => basename(dirname(r.path))).sort()).toEqual(packageDirs);
    for (const dir of packageDirs) {
      const pkg = readJson<PackageJson>('packages', dir, 'package.json');
      const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })
        .filter((name) => name.startsWith('@slipway/'))
        .map((name) => name.slice('@slipway/'.length));
      const build = readJson<{ references?: { path: string }[] }>('packages', dir, 'tsconfig.build.json');
      const refs = (build.references ?? []).map((r) => basename(dirname(r.path)));
      expect(refs.sort(), dir).toEqual(deps.sort());
    }
  });

  it('packs every workspace package as built JavaScript with types, maps, sources and the licence', () => {
    expect(packed.map((p) => p.name).sort()).toEqual([
      '@slipway/core',
      '@slipway/provisioner-cloud',
      '@slipway/provisioner-pool',
      '@slipway/provisioner-qemu',
      '@slipway/server',
    ]);
    for (const pkg of packed) {
      const files = pkg.files.map((f) => f.path);
      expect(files, pkg.name).toEqual(
        expect.arrayContaining(['LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/index.js.map']),
      );
      expect(files, pkg.name).toContain('src/index.ts'); // what the source maps point at
      expect(
        files.filter((f) => f.includes('tsbuildinfo') || f.startsWith('test/')),
        pkg.name,
      ).toEqual([]);
    }
    const core = packed.find((p) => p.name === '@slipway/core')?.files.map((f) => f.path);
    expect(core).toEqual(
      expect.arrayContaining([
        'dist/testing/index.js',
        'dist/testing/databases.d.ts',
        // The migrated PGlite template a new embedded database starts from, with its fingerprint.
        'dist/pglite-template.tar.gz',
        'dist/pglite-template.json',
      ]),
    );
    const server = packed.find((p) => p.name === '@slipway/server')?.files.map((f) => f.path);
    expect(server).toEqual(
      expect.arrayContaining(['bin/slipway.mjs', 'dist/main.js', 'dist/bundle/main.js', 'dist/dashboard/index.html']),
    );
    // The dashboard's built files ride along in the server (the dashboard itself is not published).
    expect(server?.some((f) => /^dist\/dashboard\/assets\/index-[\w-]+\.js$/.test(f))).toBe(true);
  });

  it(
    'passes publint and Are the Types Wrong (ESM only)',
    async () => {
      const tarballs = packed.map((p) => join(tarballDir, p.filename));
      const check = await run('node', ['scripts/check-packages.mjs', ...tarballs], ROOT);
      expect(check.code, check.output).toBe(0);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'imports the core from a plain .mjs with node and creates a resource on PGlite',
    async () => {
      writeFileSync(join(project, 'core-smoke.mjs'), CORE_SMOKE_MJS);
      const smoke = await run('node', ['core-smoke.mjs', join(scratch, 'smoke-data')], project);
      expect(smoke.code, smoke.output).toBe(0);
      const result = JSON.parse(smoke.stdout.trim().split('\n').at(-1) ?? '') as { resolved: string; status: string };
      expect(result.resolved).toContain('/node_modules/@slipway/core/dist/index.js');
      expect(result.status).toBe('RUNNING');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'typechecks a consumer project against the shipped declarations (embedding example, third-party provisioner)',
    async () => {
      writeFileSync(join(project, 'src/embedding.ts'), firstTsBlock(join(ROOT, 'docs/embedding.md')));
      writeFileSync(join(project, 'src/hello-provisioner.ts'), HELLO_PROVISIONER_TS);
      writeFileSync(join(project, 'test/hello.test.ts'), HELLO_CONFORMANCE_TEST_TS);
      writeFileSync(join(project, 'tsconfig.json'), TSCONFIG_JSON);
      const tsc = await run(join(project, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], project);
      expect(tsc.code, tsc.output).toBe(0);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'runs the embedding example from docs/embedding.md, compiled by the installed TypeScript',
    async () => {
      const example = await run('node', ['out/src/embedding.js'], project);
      expect(example.code, example.output).toBe(0);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'runs the conformance kit from @slipway/core/testing on a third-party provisioner',
    async () => {
      const vitest = await run(join(project, 'node_modules/.bin/vitest'), ['run', '--dir', 'test'], project);
      expect(vitest.code, vitest.output).toBe(0);
      expect(vitest.stdout).toMatch(/Tests\s+\d+ passed/);
      // With a slowRequest given, the kit can run every check: none may be reported as skipped.
      expect(vitest.stdout).not.toMatch(/skipped/);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'runs the installed slipway bin',
    async () => {
      const help = await run('npx', ['slipway', '--help'], project);
      expect(help.code, help.output).toBe(0);
      expect(help.stdout).toContain('serve');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'serves the API and the dashboard from the installed bin on a new data directory, started from the shipped template',
    async () => {
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      const child = spawn(process.execPath, [join(project, 'node_modules/@slipway/server/bin/slipway.mjs'), 'serve'], {
        cwd: project,
        env: { ...consumerEnv(), PORT: String(port), SLIPWAY_DATA_DIR: join(project, 'data'), LOG_LEVEL: 'warn' },
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      try {
        let healthy = false;
        for (let i = 0; i < 600 && !healthy && child.exitCode === null; i += 1) {
          healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then(
            (r) => r.ok,
            () => false,
          );
          if (!healthy) await new Promise((r) => setTimeout(r, 100));
        }
        expect(healthy, stderr).toBe(true);
        // The bundled CLI found the installed core's template (no initdb fallback warning).
        expect(stderr).not.toContain('SLIPWAY_PGLITE_TEMPLATE');
        // The dashboard, from the copy the server package ships (no workspace here).
        const index = await fetch(`http://127.0.0.1:${port}/`);
        const html = await index.text();
        expect(index.status, html).toBe(200);
        expect(html).toContain('<title>Slipway</title>');
        const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
        expect(script, html).toBeDefined();
        const asset = await fetch(`http://127.0.0.1:${port}${script}`);
        expect(asset.status).toBe(200);
        expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
        await asset.arrayBuffer();
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited, stderr).toBe(0);
    },
    STEP_TIMEOUT_MS,
  );
});
