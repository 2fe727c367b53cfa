/**
 * A migrated PGlite data directory shipped inside the package (written by `npm run build:assets`
 * into dist/). A new data directory starts by unpacking it (unpack-template.ts) and opening it
 * as an existing one, instead of running initdb (3.5–7.6 s, ≈0.9 GiB, and a second temporary
 * PGlite left to the GC). Next to the dump lies its fingerprint (PGlite version + migration
 * names): a dump from another PGlite (catalog version) or from older migrations is ignored.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { MIGRATIONS } from './migrations.js';

export interface TemplateFingerprint {
  /** `@electric-sql/pglite` version that wrote the dump (its catalog version must match). */
  pglite: string;
  /** Names of the migrations applied in the dump, in order. */
  migrations: string[];
}

export type TemplateLookup =
  | { status: 'ok'; file: string }
  | { status: 'missing' | 'stale'; file: string; reason: string };

export const TEMPLATE_FILE_NAME = 'pglite-template.tar.gz';

/**
 * PGlite's memory: shared_buffers 128MB → 16MB takes an instance from ≈320 to ≈180 MiB RSS.
 * `startParams` replaces PGlite's defaults (single-user mode, search_path, …), hence the spread.
 * Passed on every start, not written to postgresql.conf, so it is never persisted in a dir.
 */
export const PGLITE_START_PARAMS: readonly string[] = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/**
 * Where the shipped dump lives: dist/pglite-template.tar.gz. The built module sits in
 * dist/storage/; during workspace development the module runs from src/storage/ and finds the
 * dump of the last build in ../../dist (absent before a build: the caller falls back to initdb).
 * Bundled into an application (the server's CLI bundle), the module is elsewhere: then the
 * installed `@slipway/core` package holds the dump.
 */
export function shippedTemplateFile(): string {
  const candidates = [`../${TEMPLATE_FILE_NAME}`, `../../dist/${TEMPLATE_FILE_NAME}`].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  );
  const installed = installedCoreTemplate();
  if (installed) candidates.push(installed);
  return candidates.find((file) => existsSync(file)) ?? (candidates[0] as string);
}

function installedCoreTemplate(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@slipway/core/package.json');
    return join(dirname(pkg), 'dist', TEMPLATE_FILE_NAME);
  } catch {
    return undefined; // not resolvable from here (core itself during development)
  }
}

/** `x.tar.gz` → `x.json`. */
export function fingerprintFile(templateFile: string): string {
  return `${templateFile.replace(/(\.tar\.gz|\.tgz|\.tar)$/, '')}.json`;
}

export function currentFingerprint(): TemplateFingerprint {
  return { pglite: pgliteVersion(), migrations: Object.keys(MIGRATIONS) };
}

/** The template at `file` (default: the shipped one), if it exists and its fingerprint is current. */
export function findTemplate(file = shippedTemplateFile()): TemplateLookup {
  if (!existsSync(file)) return { status: 'missing', file, reason: `${file} does not exist` };
  let stored: Partial<TemplateFingerprint>;
  try {
    stored = JSON.parse(readFileSync(fingerprintFile(file), 'utf8')) as Partial<TemplateFingerprint>;
  } catch (error) {
    return { status: 'stale', file, reason: `no readable fingerprint: ${(error as Error).message}` };
  }
  let current: TemplateFingerprint;
  try {
    current = currentFingerprint();
  } catch (error) {
    return { status: 'stale', file, reason: (error as Error).message };
  }
  if (stored.pglite !== current.pglite) {
    return { status: 'stale', file, reason: `made by PGlite ${stored.pglite}, this is ${current.pglite}` };
  }
  if (JSON.stringify(stored.migrations) !== JSON.stringify(current.migrations)) {
    return { status: 'stale', file, reason: 'made with other migrations than these' };
  }
  return { status: 'ok', file };
}

/** Write `dump` (a `dumpDataDir('gzip')`) and the current fingerprint beside it. */
export async function writeTemplate(file: string, dump: Blob): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  await writeFile(fingerprintFile(file), `${JSON.stringify(currentFingerprint(), null, 2)}\n`);
}

let pgliteVersionCache: string | undefined;

/** PGlite's package.json is not in its `exports`: walk up from its resolved entry point. */
function pgliteVersion(): string {
  if (pgliteVersionCache) return pgliteVersionCache;
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@electric-sql/pglite' && pkg.version) {
        pgliteVersionCache = pkg.version;
        return pkg.version;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the version of @electric-sql/pglite');
    dir = parent;
  }
}
