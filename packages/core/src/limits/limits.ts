/**
 * Every limit a caller of the core can hit, in one place. The zod schemas of domain.ts and
 * the account service read them from here; docs/limits.md lists each one, and
 * test/docs/limits.test.ts checks the page, these values and the code's behaviour agree.
 */
export const LIMITS = {
  /** A resource's name. */
  resourceName: { maxLength: 63, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ },
  /** A provisioner's registry name (also what a create request names). */
  provisionerName: { pattern: /^[a-z][a-z0-9-]{0,62}$/ },
  /** A host's name (a host-placed provisioner's `host.name`, a create request's `host`). */
  hostName: { pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/ },
  /** An account id (a token's subject). */
  accountId: { maxLength: 128, pattern: /^[A-Za-z0-9][A-Za-z0-9._@:-]*$/ },
  /** A create request's idempotency key. */
  requestId: { maxLength: 128 },
  /** A resource's lifetime given as `ttlSeconds` (an `expiresAt` must be in the future). */
  ttlSeconds: { min: 60, max: 366 * 24 * 3600 },
  /** A resource's labels. */
  labels: { maxCount: 64, keyPattern: /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/, valueMaxLength: 255 },
  /** A resource's metadata: JSON bytes after a merge (the default of `ResourcePolicy.maxMetadataBytes`). */
  metadata: { maxBytes: 64 * 1024 },
  /** A resource's spec. */
  spec: {
    vcpuMin: 0.001,
    vcpuMax: 512,
    memoryMbMin: 64,
    memoryMbMax: 4_194_304,
    diskGbMax: 65_536,
    osTypeMaxLength: 64,
    imageMaxLength: 256,
  },
  /** Hot-plugged devices of one resource (`attachDevice`). */
  devices: { maxCount: 8, idPattern: /^[a-z][a-z0-9-]{0,31}$/, diskGbMax: 65_536 },
  /** An admin grant of credits: a non-zero integer of at most this size, either sign. */
  grant: { maxAmount: 1_000_000_000, noteMaxLength: 500 },
  /**
   * Every wallet balance stays within this (10^15): far below 2^53, so balances, holds, sums
   * and the API's `Credits` scalar are exact JavaScript numbers. A grant that would cross it is refused.
   */
  credits: { maxBalance: 1_000_000_000_000_000 },
  /**
   * Every string and JSON value a caller sends (limits/input-policy.ts): no NUL or unpaired
   * surrogate (PostgreSQL cannot store them), strings up to this length, JSON up to this depth.
   */
  input: { stringMaxLength: 65_536, jsonMaxDepth: 32 },
  /** `resources.list` / the `resources` query: items per page. */
  resourcePage: { defaultSize: 20, maxSize: 100 },
  /** `events.list` / the `events` query: events per page. */
  eventPage: { defaultSize: 50, maxSize: 500 },
  /** Creates per account per window, unless configured otherwise (`DEFAULT_RATE_LIMITS`). */
  createRateLimit: { limit: 5, windowMs: 60_000 },
  /** The server's credit-hold lifetime, `SLIPWAY_HOLD_TTL_SECONDS`. */
  holdTtlSeconds: { min: 10, max: 7 * 24 * 3600, defaultValue: 900 },
} as const;

export type Limits = typeof LIMITS;
