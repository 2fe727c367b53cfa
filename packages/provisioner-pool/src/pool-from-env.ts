/**
 * What the server calls at start-up: a pool from VM_POOL_JSON or VM_POOL_FILE, the demo pool
 * in demo mode when neither is set, or nothing. A bad pool fails start-up, naming the variable.
 */
import { readFileSync } from 'node:fs';
import { SlipwayError } from '@slipway/core';
import { z } from 'zod';
import { DEMO_POOL } from './demo-pool.js';
import { type PoolParseResult, parsePool } from './parse-pool.js';
import { type PoolProvisioner, poolProvisioner } from './pool-provisioner.js';
import type { FetchLike, ReleaseHookOptions } from './release-hook.js';

export interface PoolFromEnvOptions {
  /** Demo mode: use DEMO_POOL when no pool is configured. */
  readonly demo?: boolean;
  readonly name?: string;
  readonly fetch?: FetchLike;
}

export function poolProvisionerFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: PoolFromEnvOptions = {},
): PoolProvisioner | undefined {
  const json = env.VM_POOL_JSON?.trim();
  const file = env.VM_POOL_FILE?.trim();
  const common = {
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  };
  const releaseHook = releaseHookFromEnv(env);
  const withHook = releaseHook ? { ...common, releaseHook } : common;

  if (json || file) {
    if (json && file) throw configInvalid('VM_POOL_JSON', ['set VM_POOL_JSON or VM_POOL_FILE, not both']);
    const variable = json ? 'VM_POOL_JSON' : 'VM_POOL_FILE';
    const checked = json ? parsePool(json) : readPoolFileNow(file ?? '');
    if (!checked.ok) throw configInvalid(variable, checked.problems);
    return poolProvisioner({ ...withHook, source: { kind: 'env', env } });
  }
  if (options.demo)
    return poolProvisioner({ ...withHook, source: { kind: 'static', machines: DEMO_POOL }, demo: true });
  return undefined;
}

/** `VM_POOL_RELEASE_HOOK_URL` (+ optional `_TOKEN`, `_MAX_ATTEMPTS`, `_TIMEOUT_MS`). */
function releaseHookFromEnv(env: NodeJS.ProcessEnv): ReleaseHookOptions | undefined {
  const url = env.VM_POOL_RELEASE_HOOK_URL?.trim();
  if (!url) return undefined;
  if (!z.url({ protocol: /^https?$/ }).safeParse(url).success) {
    throw configInvalid('VM_POOL_RELEASE_HOOK_URL', ['not an http(s) URL']);
  }
  const token = env.VM_POOL_RELEASE_HOOK_TOKEN?.trim();
  const maxAttempts = positiveInt(env, 'VM_POOL_RELEASE_HOOK_MAX_ATTEMPTS');
  const timeoutMs = positiveInt(env, 'VM_POOL_RELEASE_HOOK_TIMEOUT_MS');
  return {
    url,
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

function positiveInt(env: NodeJS.ProcessEnv, variable: string): number | undefined {
  const raw = env[variable]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw configInvalid(variable, [`expected a positive integer, got ${raw}`]);
  return n;
}

function readPoolFileNow(path: string): PoolParseResult {
  try {
    return parsePool(readFileSync(path, 'utf8'));
  } catch (error) {
    return { ok: false, problems: [`pool: cannot read ${path} (${(error as Error).message})`] };
  }
}

function configInvalid(variable: string, problems: readonly string[]): SlipwayError {
  return new SlipwayError('CONFIG_INVALID', `${variable}: ${problems.join('; ')}`, {
    details: { variable, problems: [...problems] },
  });
}
