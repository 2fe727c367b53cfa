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
  database: { url: string; namedStatements?: boolean } | { dataDir: string };
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
  /** Jobs one replica runs at once. */
  jobConcurrency: number;
  /** Event subscriptions (SSE) one account may hold open on one replica, and all accounts together. */
  maxSubscriptionsPerAccount: number;
  maxSubscriptions: number;
  /** Of those, slots kept for user-facing work, and a floor for background work (docs/operations.md). */
  jobUrgentSlots: number;
  jobBackgroundSlots: number;
  sweepIntervalMs: number;
  /** Days history is kept (docs/operations.md); 0 keeps it for ever. */
  retention: { eventsDays: number; resourcesDays: number; machinesDays: number };
  /** Host-placed provisioners: how often this replica heartbeats its hosts, and when a silent host is stale (ms). */
  hosts: { heartbeatMs: number; staleAfterMs: number; claimWaitMs: number };
  /** The orphan reaper of provisioners with inventory: how often it sweeps, how long an orphan is left alone (ms). */
  reaper: { intervalMs: number; graceMs: number };
  /** Crash tests only: SIGKILL this process when the core reaches this point. */
  faultKillAt: FaultPoint | null;
  /** What one GraphQL request may ask for (plugins/query-limits.ts, docs/api-limits.md). */
  queryLimits: QueryLimits;
  /** GraphQL requests per account (per IP when anonymous) per minute; 0 = unlimited. */
  rateLimitRequestsPerMinute: number;
  /** Schema introspection (`__schema`, `__type`); default off when NODE_ENV=production. */
  introspection: boolean;
  /** "Did you mean …?" in validation errors; default off when NODE_ENV=production. */
  fieldSuggestions: boolean;
  /** GraphiQL at /graphql in a browser; default off when NODE_ENV=production. */
  graphiql: boolean;
}

export interface QueryLimits {
  /** Bytes of a request body, refused with HTTP 413 before it is parsed. */
  maxBodyBytes: number;
  /** Nesting of fields (fragments count as the fields they hold); introspection's `__schema` is exempt. */
  maxDepth: number;
  maxAliases: number;
  /** Lexical tokens of the document, counted while it is parsed. */
  maxTokens: number;
  maxDirectives: number;
  /** Estimated cost: a list field costs its page size times its selection (plugins/query-cost.ts). */
  maxCost: number;
}

/** Defaults of the query limits; docs/api-limits.md and docs/configuration.md show them (a test checks). */
export const QUERY_LIMIT_DEFAULTS: QueryLimits = {
  maxBodyBytes: 1024 * 1024,
  maxDepth: 10,
  maxAliases: 30,
  maxTokens: 2000,
  maxDirectives: 50,
  maxCost: 10_000,
};

/** Requests per account per minute when SLIPWAY_RATE_LIMIT_REQUESTS_PER_MINUTE is unset. */
export const DEFAULT_REQUESTS_PER_MINUTE = 600;

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
  SLIPWAY_PG_NAMED_STATEMENTS: booleanFlag.default(true),
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
  SLIPWAY_JOB_CONCURRENCY: wholeNumber(1, 1_000).default(8),
  SLIPWAY_MAX_SUBSCRIPTIONS_PER_ACCOUNT: wholeNumber(1, 10_000).default(10),
  SLIPWAY_MAX_SUBSCRIPTIONS: wholeNumber(1, 1_000_000).default(1_000),
  SLIPWAY_JOB_URGENT_SLOTS: wholeNumber(0, 1_000).default(1),
  SLIPWAY_JOB_BACKGROUND_SLOTS: wholeNumber(0, 1_000).default(1),
  SLIPWAY_SWEEP_INTERVAL_MS: wholeNumber(50, 3_600_000).default(5_000),
  SLIPWAY_RETENTION_EVENTS_DAYS: wholeNumber(0, 36_500).default(90),
  SLIPWAY_RETENTION_RESOURCES_DAYS: wholeNumber(0, 36_500).default(30),
  SLIPWAY_RETENTION_MACHINES_DAYS: wholeNumber(0, 36_500).default(7),
  SLIPWAY_HOST_HEARTBEAT_MS: wholeNumber(100, 3_600_000).default(5_000),
  SLIPWAY_HOST_STALE_AFTER_MS: wholeNumber(200, 86_400_000).default(30_000),
  SLIPWAY_REAPER_INTERVAL_MS: wholeNumber(1_000, 86_400_000).default(300_000),
  SLIPWAY_REAPER_GRACE_MS: wholeNumber(0, 7 * 86_400_000).default(600_000),
  SLIPWAY_FAULT_KILL_AT: z.enum(FAULT_POINTS, `must be one of ${FAULT_POINTS.join(', ')}`).optional(),
  NODE_ENV: z.string().optional(),
  SLIPWAY_MAX_BODY_BYTES: wholeNumber(1024, 1024 ** 3).default(QUERY_LIMIT_DEFAULTS.maxBodyBytes),
  SLIPWAY_MAX_QUERY_DEPTH: wholeNumber(1, 1000).default(QUERY_LIMIT_DEFAULTS.maxDepth),
  SLIPWAY_MAX_QUERY_ALIASES: wholeNumber(0, 100_000).default(QUERY_LIMIT_DEFAULTS.maxAliases),
  SLIPWAY_MAX_QUERY_TOKENS: wholeNumber(100, 10_000_000).default(QUERY_LIMIT_DEFAULTS.maxTokens),
  SLIPWAY_MAX_QUERY_DIRECTIVES: wholeNumber(0, 100_000).default(QUERY_LIMIT_DEFAULTS.maxDirectives),
  SLIPWAY_MAX_QUERY_COST: wholeNumber(1, 1_000_000_000).default(QUERY_LIMIT_DEFAULTS.maxCost),
  SLIPWAY_RATE_LIMIT_REQUESTS_PER_MINUTE: wholeNumber(0, 1_000_000).default(DEFAULT_REQUESTS_PER_MINUTE),
  SLIPWAY_INTROSPECTION: booleanFlag.optional(),
  SLIPWAY_FIELD_SUGGESTIONS: booleanFlag.optional(),
  SLIPWAY_GRAPHIQL: booleanFlag.optional(),
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
  const production = e.NODE_ENV === 'production';
  return {
    port: e.PORT,
    host: e.HOST,
    database: embedded
      ? { dataDir }
      : { url: e.DATABASE_URL as string, namedStatements: e.SLIPWAY_PG_NAMED_STATEMENTS },
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
    jobConcurrency: e.SLIPWAY_JOB_CONCURRENCY,
    maxSubscriptionsPerAccount: e.SLIPWAY_MAX_SUBSCRIPTIONS_PER_ACCOUNT,
    maxSubscriptions: e.SLIPWAY_MAX_SUBSCRIPTIONS,
    jobUrgentSlots: e.SLIPWAY_JOB_URGENT_SLOTS,
    jobBackgroundSlots: e.SLIPWAY_JOB_BACKGROUND_SLOTS,
    sweepIntervalMs: e.SLIPWAY_SWEEP_INTERVAL_MS,
    retention: {
      eventsDays: e.SLIPWAY_RETENTION_EVENTS_DAYS,
      resourcesDays: e.SLIPWAY_RETENTION_RESOURCES_DAYS,
      machinesDays: e.SLIPWAY_RETENTION_MACHINES_DAYS,
    },
    hosts: {
      heartbeatMs: e.SLIPWAY_HOST_HEARTBEAT_MS,
      staleAfterMs: e.SLIPWAY_HOST_STALE_AFTER_MS,
      // A server restarted right after a crash waits out its dead predecessor's heartbeat.
      claimWaitMs: e.SLIPWAY_HOST_STALE_AFTER_MS + e.SLIPWAY_HOST_HEARTBEAT_MS,
    },
    reaper: { intervalMs: e.SLIPWAY_REAPER_INTERVAL_MS, graceMs: e.SLIPWAY_REAPER_GRACE_MS },
    faultKillAt: e.SLIPWAY_FAULT_KILL_AT ?? null,
    queryLimits: {
      maxBodyBytes: e.SLIPWAY_MAX_BODY_BYTES,
      maxDepth: e.SLIPWAY_MAX_QUERY_DEPTH,
      maxAliases: e.SLIPWAY_MAX_QUERY_ALIASES,
      maxTokens: e.SLIPWAY_MAX_QUERY_TOKENS,
      maxDirectives: e.SLIPWAY_MAX_QUERY_DIRECTIVES,
      maxCost: e.SLIPWAY_MAX_QUERY_COST,
    },
    rateLimitRequestsPerMinute: e.SLIPWAY_RATE_LIMIT_REQUESTS_PER_MINUTE,
    // A production server tells strangers nothing about its schema unless asked to.
    introspection: e.SLIPWAY_INTROSPECTION ?? !production,
    fieldSuggestions: e.SLIPWAY_FIELD_SUGGESTIONS ?? !production,
    graphiql: e.SLIPWAY_GRAPHIQL ?? !production,
  };
}

const SECRET_VARIABLES = new Set(['SLIPWAY_JWT_SECRET', 'SLIPWAY_ADMIN_SECRET', 'DATABASE_URL']);

function configError(variable: string, problem: string, value?: string): SlipwayError {
  // Never echo secrets (or a URL with a password) back into logs.
  const shown = value === undefined || SECRET_VARIABLES.has(variable) ? '' : ` (got ${JSON.stringify(value)})`;
  return new SlipwayError('CONFIG_INVALID', `${variable}: ${problem}${shown}`, { details: { variable } });
}
