/** Where the pool definition comes from, and reading it (again on every refresh). */
import { readFile } from 'node:fs/promises';
import { type PoolParseResult, parsePool } from './parse-pool.js';
import type { PoolEntryInput } from './pool-entry.js';

export type PoolSource =
  /** `VM_POOL_JSON` (inline JSON) or `VM_POOL_FILE` (path to a JSON file); `env` defaults to `process.env`. */
  | { readonly kind: 'env'; readonly env?: NodeJS.ProcessEnv }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'static'; readonly machines: readonly PoolEntryInput[] }
  /** Anything else (an inventory API, a database): `load` returns the same JSON shape. */
  | { readonly kind: 'function'; readonly load: () => Promise<unknown> };

export async function loadPool(source: PoolSource): Promise<PoolParseResult> {
  switch (source.kind) {
    case 'static':
      return parsePool(source.machines);
    case 'file':
      return readPoolFile(source.path);
    case 'function':
      try {
        return parsePool(await source.load());
      } catch (error) {
        return { ok: false, problems: [`pool: loading the pool failed (${messageOf(error)})`] };
      }
    case 'env':
      return loadFromEnv(source.env ?? process.env);
  }
}

function loadFromEnv(env: NodeJS.ProcessEnv): Promise<PoolParseResult> | PoolParseResult {
  const json = env.VM_POOL_JSON?.trim();
  const file = env.VM_POOL_FILE?.trim();
  if (json && file) return { ok: false, problems: ['pool: set VM_POOL_JSON or VM_POOL_FILE, not both'] };
  if (json) return parsePool(json);
  if (file) return readPoolFile(file);
  return { ok: false, problems: ['pool: neither VM_POOL_JSON nor VM_POOL_FILE is set'] };
}

async function readPoolFile(path: string): Promise<PoolParseResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, problems: [`pool: cannot read ${path} (${messageOf(error)})`] };
  }
  return parsePool(text);
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
