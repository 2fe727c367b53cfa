/**
 * docs/limits.md, core's LIMITS and the code agree: the page has a row with the value of
 * every limit, and the schemas, services and server config enforce exactly those values.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  AccountIdSchema,
  CreateResourceInputSchema,
  createSlipway,
  DEFAULT_RATE_LIMITS,
  DEFAULT_RESOURCE_POLICY,
  demoProvisioner,
  LIMITS,
  type Slipway,
} from '@slipway/core';
import { createTestStorage, type TestStorage } from '@slipway/core/testing';
import { loadConfig } from '@slipway/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const page = readFileSync(fileURLToPath(new URL('../../docs/limits.md', import.meta.url)), 'utf8');

/** `path` → value text of every row of the page's tables whose first cell is a backticked `a.b` path. */
function documentedLimits(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of page.split('\n')) {
    const row = /^\|\s*`([a-zA-Z]+\.[a-zA-Z]+)`\s*\|\s*`([^`]+)`/.exec(line);
    if (row?.[1] && row[2]) rows.set(row[1], row[2]);
  }
  return rows;
}

/** LIMITS as `group.name` → the text the page shows (numbers as digits, patterns as /source/). */
function limitsAsText(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [group, values] of Object.entries(LIMITS)) {
    for (const [name, value] of Object.entries(values)) out.set(`${group}.${name}`, String(value));
  }
  return out;
}

const repeat = (n: number) => 'a'.repeat(n);
const base = { name: 'web-1', provisioner: 'demo', spec: { vcpu: 1, memoryMb: 512, diskGb: 1 } };
const accepts = (patch: Record<string, unknown>) => CreateResourceInputSchema.safeParse({ ...base, ...patch }).success;
const spec = (patch: Record<string, unknown>) => ({ spec: { ...base.spec, ...patch } });
const labels = (count: number) => ({
  labels: Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, 'v'])),
});

describe('docs/limits.md', () => {
  it('has one row per limit, with the value of LIMITS', () => {
    expect(Object.fromEntries(documentedLimits())).toEqual(Object.fromEntries(limitsAsText()));
  });

  it('is linked from the README', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    expect(readme).toContain('(docs/limits.md)');
  });
});

describe('the create input enforces LIMITS', () => {
  it('name, provisioner name, requestId', () => {
    expect(accepts({ name: repeat(LIMITS.resourceName.maxLength) })).toBe(true);
    expect(accepts({ name: repeat(LIMITS.resourceName.maxLength + 1) })).toBe(false);
    expect(accepts({ name: '-web' })).toBe(false);
    expect(accepts({ provisioner: `p${repeat(62)}` })).toBe(true);
    expect(accepts({ provisioner: `p${repeat(63)}` })).toBe(false);
    expect(accepts({ provisioner: 'Demo' })).toBe(false);
    expect(accepts({ requestId: repeat(LIMITS.requestId.maxLength) })).toBe(true);
    expect(accepts({ requestId: repeat(LIMITS.requestId.maxLength + 1) })).toBe(false);
  });

  it('ttlSeconds', () => {
    expect(accepts({ ttlSeconds: LIMITS.ttlSeconds.min - 1 })).toBe(false);
    expect(accepts({ ttlSeconds: LIMITS.ttlSeconds.min })).toBe(true);
    expect(accepts({ ttlSeconds: LIMITS.ttlSeconds.max })).toBe(true);
    expect(accepts({ ttlSeconds: LIMITS.ttlSeconds.max + 1 })).toBe(false);
  });

  it('labels', () => {
    expect(accepts(labels(LIMITS.labels.maxCount))).toBe(true);
    expect(accepts(labels(LIMITS.labels.maxCount + 1))).toBe(false);
    expect(accepts({ labels: { [`k${repeat(62)}`]: 'v' } })).toBe(true);
    expect(accepts({ labels: { [`k${repeat(63)}`]: 'v' } })).toBe(false);
    expect(accepts({ labels: { k: repeat(LIMITS.labels.valueMaxLength) } })).toBe(true);
    expect(accepts({ labels: { k: repeat(LIMITS.labels.valueMaxLength + 1) } })).toBe(false);
  });

  it('spec', () => {
    const s = LIMITS.spec;
    expect(accepts(spec({ vcpu: s.vcpuMin }))).toBe(true);
    expect(accepts(spec({ vcpu: s.vcpuMin / 2 }))).toBe(false);
    expect(accepts(spec({ vcpu: s.vcpuMax }))).toBe(true);
    expect(accepts(spec({ vcpu: s.vcpuMax + 1 }))).toBe(false);
    expect(accepts(spec({ memoryMb: s.memoryMbMin - 1 }))).toBe(false);
    expect(accepts(spec({ memoryMb: s.memoryMbMax }))).toBe(true);
    expect(accepts(spec({ memoryMb: s.memoryMbMax + 1 }))).toBe(false);
    expect(accepts(spec({ diskGb: s.diskGbMax }))).toBe(true);
    expect(accepts(spec({ diskGb: s.diskGbMax + 1 }))).toBe(false);
    expect(accepts(spec({ osType: repeat(s.osTypeMaxLength + 1) }))).toBe(false);
    expect(accepts(spec({ image: repeat(s.imageMaxLength) }))).toBe(true);
    expect(accepts(spec({ image: repeat(s.imageMaxLength + 1) }))).toBe(false);
  });

  it('account ids', () => {
    expect(AccountIdSchema.safeParse(repeat(LIMITS.accountId.maxLength)).success).toBe(true);
    expect(AccountIdSchema.safeParse(repeat(LIMITS.accountId.maxLength + 1)).success).toBe(false);
    expect(AccountIdSchema.safeParse('alice@example.com').success).toBe(true);
    expect(AccountIdSchema.safeParse('.alice').success).toBe(false);
  });
});

describe('defaults and the server config use LIMITS', () => {
  it('metadata size and the create rate limit', () => {
    expect(DEFAULT_RESOURCE_POLICY.maxMetadataBytes).toBe(LIMITS.metadata.maxBytes);
    expect(DEFAULT_RATE_LIMITS).toEqual({ createResource: LIMITS.createRateLimit });
  });

  it('SLIPWAY_HOLD_TTL_SECONDS range and default', () => {
    const env = (value?: number) => ({
      SLIPWAY_JWT_SECRET: 'x'.repeat(32),
      ...(value === undefined ? {} : { SLIPWAY_HOLD_TTL_SECONDS: String(value) }),
    });
    const { min, max, defaultValue } = LIMITS.holdTtlSeconds;
    expect(loadConfig(env()).holdTtlSeconds).toBe(defaultValue);
    expect(loadConfig(env(min)).holdTtlSeconds).toBe(min);
    expect(loadConfig(env(max)).holdTtlSeconds).toBe(max);
    expect(() => loadConfig(env(min - 1))).toThrow(/SLIPWAY_HOLD_TTL_SECONDS/);
    expect(() => loadConfig(env(max + 1))).toThrow(/SLIPWAY_HOLD_TTL_SECONDS/);
    expect(loadConfig(env()).rateLimitCreatesPerMinute).toBe(LIMITS.createRateLimit.limit);
  });
});

describe('the services enforce LIMITS', () => {
  const admin = { id: 'ops', role: 'admin' } as const;
  const alice = { id: 'alice', role: 'user' } as const;
  let storage: TestStorage;
  let slipway: Slipway;

  beforeAll(async () => {
    storage = await createTestStorage('pglite');
    slipway = await createSlipway({ database: storage, provisioners: [demoProvisioner()], rateLimits: {} });
  });
  afterAll(async () => {
    await slipway?.close();
    await storage?.close();
  });

  it('grants', async () => {
    const grant = (amount: number, note?: string) =>
      slipway.accounts.grant(admin, { accountId: 'alice', amount, ...(note === undefined ? {} : { note }) });
    await expect(grant(LIMITS.grant.maxAmount, repeat(LIMITS.grant.noteMaxLength))).resolves.toBeDefined();
    await expect(grant(LIMITS.grant.maxAmount + 1)).rejects.toThrow(/amount/);
    await expect(grant(-(LIMITS.grant.maxAmount + 1))).rejects.toThrow(/amount/);
    await expect(grant(1, repeat(LIMITS.grant.noteMaxLength + 1))).rejects.toThrow(/note/);
  });

  it('metadata size', async () => {
    const vm = await slipway.resources.create(alice, { ...base, name: 'meta' });
    // {"k":"…"} is the value's length plus 8 bytes of JSON.
    const fits = { k: repeat(LIMITS.metadata.maxBytes - 8) };
    await expect(slipway.resources.updateMetadata(alice, vm.id, fits)).resolves.toBeDefined();
    await expect(slipway.resources.updateMetadata(alice, vm.id, { k: `${fits.k}a` })).rejects.toThrow(/metadata/);
    // The same cap at create, before any credit moves.
    const before = await slipway.ledger.wallet(storage.db, 'alice');
    await expect(
      slipway.resources.create(alice, { ...base, name: 'meta-big', metadata: { k: `${fits.k}a` } }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'metadata' } });
    expect(await slipway.ledger.wallet(storage.db, 'alice')).toEqual(before);
  });

  it('page sizes of resources and events', { timeout: 120_000 }, async () => {
    const { resourcePage, eventPage } = LIMITS;
    for (let i = 0; i < resourcePage.maxSize; i += 1) {
      await slipway.resources.create(alice, { ...base, name: `vm-${i}` }, { wait: false });
    }
    // With the one from the metadata test: one more resource than fits a page.
    expect((await slipway.resources.list(alice)).items).toHaveLength(resourcePage.defaultSize);
    const largest = await slipway.resources.list(alice, { first: resourcePage.maxSize * 10 });
    expect(largest.items).toHaveLength(resourcePage.maxSize);
    expect(largest.hasNextPage).toBe(true);

    await storage.db.transaction().execute(async (trx) => {
      for (let i = 0; i < eventPage.maxSize; i += 1)
        await slipway.events.append(trx, { type: 'system', action: 'test.filler' });
    });
    expect(await slipway.events.list(storage.db, admin)).toHaveLength(eventPage.defaultSize);
    expect(await slipway.events.list(storage.db, admin, { first: eventPage.maxSize * 10 })).toHaveLength(
      eventPage.maxSize,
    );
  });
});
