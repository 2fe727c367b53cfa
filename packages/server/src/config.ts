/**
 * Server configuration, parsed from the environment once at start. A bad value throws a
 * CONFIG_INVALID SlipwayError whose message starts with the variable's name, so `main`
 * can print it and exit 1 instead of starting half-configured.
 */
import { isAbsolute, resolve } from 'node:path';
import { FAULT_POINTS, type FaultPoint, LIMITS, SlipwayError } from '@slipway/core';
import { z } from 'zod';
import { MIN_JWT_SECRET_LENGTH, readOrCreateJwtSecret } from './jwt-secret.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServerConfig {
  port: number;
  host: string;
  /** Where core keeps state: PostgreSQL when DATABASE_URL is set, else PGlite in `dataDir`. */
  database: { url: string } | { dataDir: string };
  /** Absolute; holds the PGlite database and the generated JWT secret. */
  dataDir: string;
  /** True when no DATABASE_URL is set: the zero-setup PGlite default. */
  embedded: boolean;
  jwtSecret: string;
  adminSecret: string | null;
  provisionerDemo: boolean;
  logLevel: LogLevel;
  holdTtlSeconds: number;
  /** Creates per user per minute; 0 = unlimited. */
  rateLimitCreatesPerMinute: number;
  /** Longest a create/release waits for its job before answering (s). */
  waitSeconds: number;
  jobLeaseMs: number;
  sweepIntervalMs: number;
  /** Host-placed provisioners: how often this replica heartbeats its hosts, and when a silent host is stale (ms). */
  hosts: { heartbeatMs: number; staleAfterMs: number; claimWaitMs: number };
  /** The orphan reaper of provisioners with inventory: how often it sweeps, how long an orphan is left alone (ms). */
  reaper: { intervalMs: number; graceMs: number };
  /** Crash tests only: SIGKILL this process when the core reaches this point. */
  faultKillAt: FaultPoint | null;
}

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const booleanFlag = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0'], 'must be one of true, false, 1, 0'))
  .transform((v) => v === 'true' || v === '1');

const EnvSchema = z.object({
  PORT: wholeNumber(0, 65_535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  SLIPWAY_DATA_DIR: z.string().min(1).default('.slipway'),
  SLIPWAY_JWT_SECRET: z
    .string()
    .min(MIN_JWT_SECRET_LENGTH, `must be at least ${MIN_JWT_SECRET_LENGTH} characters`)
    .optional(),
  SLIPWAY_ADMIN_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  PROVISIONER_DEMO: booleanFlag.default(true),
  LOG_LEVEL: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`).default('info'),
  SLIPWAY_HOLD_TTL_SECONDS: wholeNumber(LIMITS.holdTtlSeconds.min, LIMITS.holdTtlSeconds.max).default(
    LIMITS.holdTtlSeconds.defaultValue,
  ),
  SLIPWAY_RATE_LIMIT_CREATES_PER_MINUTE: wholeNumber(0, 1_000_000).default(LIMITS.createRateLimit.limit),
  SLIPWAY_WAIT_SECONDS: wholeNumber(0, 3600).default(60),
  SLIPWAY_JOB_LEASE_MS: wholeNumber(500, 3_600_000).default(30_000),
  SLIPWAY_SWEEP_INTERVAL_MS: wholeNumber(50, 3_600_000).default(5_000),
  SLIPWAY_HOST_HEARTBEAT_MS: wholeNumber(100, 3_600_000).default(5_000),
  SLIPWAY_HOST_STALE_AFTER_MS: wholeNumber(200, 86_400_000).default(30_000),
  SLIPWAY_REAPER_INTERVAL_MS: wholeNumber(1_000, 86_400_000).default(300_000),
  SLIPWAY_REAPER_GRACE_MS: wholeNumber(0, 7 * 86_400_000).default(600_000),
  SLIPWAY_FAULT_KILL_AT: z.enum(FAULT_POINTS, `must be one of ${FAULT_POINTS.join(', ')}`).optional(),
});

export type EnvVariable = keyof typeof EnvSchema.shape;
export const ENV_VARIABLES = Object.keys(EnvSchema.shape) as EnvVariable[];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  // An empty value (`PORT=`) means "unset", as in most shells' `VAR= cmd` idiom.
  const raw = Object.fromEntries(ENV_VARIABLES.map((name) => [name, env[name] === '' ? undefined : env[name]]));
  const parsed = EnvSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw configError(variable, issue?.message ?? 'invalid', raw[variable]);
  }
  const e = parsed.data;
  // npm sets INIT_CWD to where the user typed the command; `npm start` itself runs in packages/server.
  const base = env.INIT_CWD ?? process.cwd();
  const dataDir = isAbsolute(e.SLIPWAY_DATA_DIR) ? e.SLIPWAY_DATA_DIR : resolve(base, e.SLIPWAY_DATA_DIR);
  const embedded = e.DATABASE_URL === undefined;
  let jwtSecret = e.SLIPWAY_JWT_SECRET;
  if (jwtSecret === undefined) {
    // With a shared PostgreSQL several replicas must agree on one secret: it cannot be invented here.
    if (!embedded) throw configError('SLIPWAY_JWT_SECRET', 'is required when DATABASE_URL is set');
    jwtSecret = readOrCreateJwtSecret(dataDir);
  }
  if (e.SLIPWAY_HOST_STALE_AFTER_MS <= e.SLIPWAY_HOST_HEARTBEAT_MS) {
    const problem = 'must be longer than SLIPWAY_HOST_HEARTBEAT_MS';
    throw configError('SLIPWAY_HOST_STALE_AFTER_MS', problem, String(e.SLIPWAY_HOST_STALE_AFTER_MS));
  }
  return {
    port: e.PORT,
    host: e.HOST,
    database: embedded ? { dataDir } : { url: e.DATABASE_URL as string },
    dataDir,
    embedded,
    jwtSecret,
    adminSecret: e.SLIPWAY_ADMIN_SECRET ?? null,
    provisionerDemo: e.PROVISIONER_DEMO,
    logLevel: e.LOG_LEVEL,
    holdTtlSeconds: e.SLIPWAY_HOLD_TTL_SECONDS,
    rateLimitCreatesPerMinute: e.SLIPWAY_RATE_LIMIT_CREATES_PER_MINUTE,
    waitSeconds: e.SLIPWAY_WAIT_SECONDS,
    jobLeaseMs: e.SLIPWAY_JOB_LEASE_MS,
    sweepIntervalMs: e.SLIPWAY_SWEEP_INTERVAL_MS,
    hosts: {
      heartbeatMs: e.SLIPWAY_HOST_HEARTBEAT_MS,
      staleAfterMs: e.SLIPWAY_HOST_STALE_AFTER_MS,
      // A server restarted right after a crash waits out its dead predecessor's heartbeat.
      claimWaitMs: e.SLIPWAY_HOST_STALE_AFTER_MS + e.SLIPWAY_HOST_HEARTBEAT_MS,
    },
    reaper: { intervalMs: e.SLIPWAY_REAPER_INTERVAL_MS, graceMs: e.SLIPWAY_REAPER_GRACE_MS },
    faultKillAt: e.SLIPWAY_FAULT_KILL_AT ?? null,
  };
}

const SECRET_VARIABLES = new Set(['SLIPWAY_JWT_SECRET', 'SLIPWAY_ADMIN_SECRET', 'DATABASE_URL']);

function configError(variable: string, problem: string, value?: string): SlipwayError {
  // Never echo secrets (or a URL with a password) back into logs.
  const shown = value === undefined || SECRET_VARIABLES.has(variable) ? '' : ` (got ${JSON.stringify(value)})`;
  return new SlipwayError('CONFIG_INVALID', `${variable}: ${problem}${shown}`, { details: { variable } });
}
