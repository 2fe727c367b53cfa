/**
 * Two real server processes on one PostgreSQL, clients spread over both: rate limits,
 * idempotency and credit limits hold exactly, and a subscription on one replica sees the
 * changes made through the other, also after its LISTEN connections were killed.
 */

import { type Actor, createSlipway, LISTEN_APPLICATION_NAME, type Slipway } from '@slipway/core';
import { createTestStorage, type TestStorage } from '@slipway/core/testing';
import { mintToken } from '@slipway/server';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from './support/invariants.js';
import { eventually, gql, type ServerProcess, startServer } from './support/server-process.js';
import { subscribe } from './support/sse.js';

const SECRET = 'replica-test-secret-0123456789-abcdefghij';
const admin: Actor = { id: 'admin', role: 'admin' };
const SPEC = { vcpu: 1, memoryMb: 512, diskGb: 0 }; // 15 credits
const CREATE = `mutation($input: CreateResourceInput!) { createResource(input: $input) {
  __typename ... on MutationCreateResourceSuccess { data { id status } } ... on Error { code message } } }`;
type CreateAnswer = { createResource: { __typename: string; data?: { id: string }; code?: string } };

describe('two replicas on one PostgreSQL', () => {
  let storage: TestStorage;
  let core: Slipway;
  let a: ServerProcess;
  let b: ServerProcess;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    storage = await createTestStorage('postgres');
    core = await createSlipway({ database: storage });
    const env = {
      DATABASE_URL: storage.url as string,
      SLIPWAY_JWT_SECRET: SECRET,
      SLIPWAY_RATE_LIMIT_CREATES_PER_MINUTE: '5',
    };
    [a, b] = await Promise.all([startServer(env), startServer(env)]);
    for (const [user, credits] of [
      ['limited', 1000],
      ['twin', 1000],
      ['frugal', 45],
      ['watcher', 1000],
    ] as const) {
      await core.accounts.grant(admin, { accountId: user, amount: credits });
      tokens[user] = await mintToken({ secret: SECRET, userId: user, role: 'user', expiresIn: '1h' });
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await core?.close();
    await storage?.close();
  });

  const create = (i: number, user: string, requestId: string) =>
    gql<CreateAnswer>(i % 2 === 0 ? a.url : b.url, tokens[user] as string, CREATE, {
      input: { name: `r-${requestId}`, provisioner: 'demo', spec: SPEC, requestId },
    }).then((r) => r.data?.createResource);

  it('rate limits are exact across replicas', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => create(i, 'limited', `l-${i}`)));
    const kinds = answers.map((x) => x?.__typename);
    expect(kinds.filter((k) => k === 'MutationCreateResourceSuccess')).toHaveLength(5);
    expect(kinds.filter((k) => k === 'RateLimitedError')).toHaveLength(7);
  });

  it('the same requestId sent 20 times over both replicas makes one resource and one charge', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => create(i, 'twin', 'only-once')));
    const ids = new Set(answers.flatMap((x) => (x?.data ? [x.data.id] : [])));
    expect(ids.size).toBe(1);
    for (const x of answers)
      expect(['MutationCreateResourceSuccess', 'RequestInProgressError']).toContain(x?.__typename);
    const rows = await storage.db.selectFrom('resources').select('id').where('owner_id', '=', 'twin').execute();
    expect(rows).toHaveLength(1);
    expect(await core.ledger.wallet(storage.db, 'twin')).toMatchObject({ balance: 985, held: 0 });
  });

  it('credit limits hold exactly across replicas', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => create(i, 'frugal', `f-${i}`)));
    const kinds = answers.map((x) => x?.__typename);
    expect(kinds.filter((k) => k === 'MutationCreateResourceSuccess')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'InsufficientCreditsError')).toHaveLength(2);
    expect(await core.ledger.wallet(storage.db, 'frugal')).toMatchObject({ balance: 0, held: 0 });
    expect((await checkInvariants(storage.db)).problems).toEqual([]);
  });

  it('a subscription on one replica sees changes made through the other', async () => {
    const sub = subscribe<{ data: { events: { seq: string; action: string; resourceId: string | null } } }>(
      a.url,
      tokens.watcher as string,
      'subscription { events { seq action resourceId } }',
    );
    await sub.opened;
    await new Promise((r) => setTimeout(r, 300)); // the replica has issued LISTEN
    const made = await gql<CreateAnswer>(b.url, tokens.watcher as string, CREATE, {
      input: { name: 'seen', provisioner: 'demo', spec: SPEC, requestId: 'seen-1' },
    });
    const id = made.data?.createResource.data?.id;
    expect(id).toBeDefined();
    await eventually(
      async () =>
        sub.received.some((m) => m.data.events.action === 'resource.created' && m.data.events.resourceId === id),
      'the created event on the other replica',
      15_000,
    );
    sub.close();
    const seqs = sub.received.map((m) => Number(m.data.events.seq));
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("a replica whose LISTEN connections are killed reconnects and sees the other's events, none lost or repeated", async () => {
    type Seen = { data: { events: { seq: string; action: string; resourceId: string | null } } };
    const sub = subscribe<Seen>(a.url, tokens.watcher as string, 'subscription { events { seq action resourceId } }');
    await sub.opened;
    await new Promise((r) => setTimeout(r, 300)); // the replica has issued LISTEN
    const listeners = async () =>
      (
        await sql<{ pid: number }>`select pid from pg_stat_activity
          where application_name = ${LISTEN_APPLICATION_NAME} and datname = current_database()`.execute(storage.db)
      ).rows.map((r) => r.pid);
    const before = await listeners();
    expect(before.length).toBeGreaterThanOrEqual(3); // jobs on both replicas, events on a
    await sql`select pg_terminate_backend(pid) from pg_stat_activity
      where application_name = ${LISTEN_APPLICATION_NAME} and datname = current_database()`.execute(storage.db);
    const made = [await create(1, 'watcher', 'gap-1')]; // while a's LISTEN is down
    await eventually(
      async () => {
        const now = await listeners();
        return now.length === before.length && now.every((pid) => !before.includes(pid));
      },
      'every LISTEN connection to be back',
      15_000,
    );
    made.push(await create(1, 'watcher', 'gap-2'));
    await eventually(
      async () =>
        made.every((x) =>
          sub.received.some(
            (m) => m.data.events.action === 'resource.created' && m.data.events.resourceId === x?.data?.id,
          ),
        ),
      'both created events on the other replica',
      15_000,
    );
    sub.close();
    const seqs = sub.received.map((m) => Number(m.data.events.seq)); // BigInt: a decimal string
    const stored = await storage.db
      .selectFrom('events')
      .select('seq')
      .where('owner_id', '=', 'watcher')
      .where('seq', '>=', Math.min(...seqs))
      .where('seq', '<=', Math.max(...seqs))
      .orderBy('seq')
      .execute();
    expect(seqs).toEqual(stored.map((e) => e.seq)); // every one, in order, once
  });
});
