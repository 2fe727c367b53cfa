/**
 * The LISTEN connection dies (pg_terminate_backend, as a failover or a proxy would do it): it
 * is reopened with backoff, and a watcher on this replica goes on receiving the events another
 * replica writes, those written while it was down included, none lost and none twice. The job
 * runner's LISTEN comes back too. Polls are set far away, so only NOTIFY can wake anything.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  createSlipway,
  demoProvisioner,
  LISTEN_APPLICATION_NAME,
  type Slipway,
  type SlipwayEvent,
} from '../src/index.js';
import { createTestStorage, postgresReachable, type TestStorage } from '../src/testing/index.js';

const admin: Actor = { id: 'admin', role: 'admin' };
const FAR = 600_000;
const withPostgres = (await postgresReachable()) || process.env.CI === 'true';

/** Kill every LISTEN connection of this database; returns their pids. */
async function killListeners(storage: TestStorage): Promise<number[]> {
  const { rows } = await sql<{ pid: number }>`
    select pid, pg_terminate_backend(pid) from pg_stat_activity
    where application_name = ${LISTEN_APPLICATION_NAME} and datname = current_database()`.execute(storage.db);
  return rows.map((r) => r.pid);
}

const listenerPids = async (storage: TestStorage) =>
  (
    await sql<{ pid: number }>`select pid from pg_stat_activity
      where application_name = ${LISTEN_APPLICATION_NAME} and datname = current_database()`.execute(storage.db)
  ).rows.map((r) => r.pid);

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 8_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.runIf(withPostgres)('LISTEN reconnects on postgres', () => {
  let storage: TestStorage;
  const replicas: Slipway[] = [];
  afterEach(async () => {
    for (const s of replicas.splice(0)) await s.close();
    await storage.close();
  });

  it('a watcher keeps every event of another replica across a killed LISTEN connection, in order, once', async () => {
    storage = await createTestStorage('postgres');
    const watching = await createSlipway({ database: storage });
    const writer = await createSlipway({ database: storage });
    replicas.push(watching, writer);
    const controller = new AbortController();
    const seen: SlipwayEvent[] = [];
    const watch = (async () => {
      for await (const e of watching.watch(admin, { signal: controller.signal, pollMs: FAR })) seen.push(e);
    })();
    const write = (n: number) => writer.eventService.append({ type: 'system', action: 'test.tick', data: { n } });

    await until(async () => (await listenerPids(storage)).length === 1, 'the LISTEN connection');
    await write(1);
    await until(() => seen.length === 1, 'the first event');

    const [killed] = await killListeners(storage);
    for (let n = 2; n <= 4; n++) await write(n); // while the connection is down
    await until(() => seen.length === 4, 'the events written while LISTEN was down');
    const [reopened] = await listenerPids(storage);
    expect(reopened).toBeDefined();
    expect(reopened).not.toBe(killed);

    // Twice more, and live notifications flow again each time.
    for (let round = 0; round < 2; round++) {
      await killListeners(storage);
      await until(async () => (await listenerPids(storage)).length === 1, 'LISTEN again');
      await write(5 + round);
      await until(() => seen.length === 5 + round, `event ${5 + round}`);
    }
    controller.abort();
    await watch;
    expect(seen.map((e) => e.data.n)).toEqual([1, 2, 3, 4, 5, 6]);
    const seqs = seen.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it("the job runner's LISTEN comes back: a job enqueued by another replica still runs at once", async () => {
    storage = await createTestStorage('postgres');
    const options = { database: storage, provisioners: [demoProvisioner()], rateLimits: {}, sweepIntervalMs: FAR };
    const runner = await createSlipway({ ...options, jobs: { pollMs: FAR } });
    const requester = await createSlipway(options);
    replicas.push(runner, requester);
    await runner.accounts.grant(admin, { accountId: 'alice', amount: 100 });
    await runner.start();
    await until(async () => (await listenerPids(storage)).length === 1, 'the job LISTEN');
    await killListeners(storage);
    await until(async () => (await listenerPids(storage)).length === 1, 'the job LISTEN back');
    const alice: Actor = { id: 'alice', role: 'user' };
    const spec = { vcpu: 1, memoryMb: 512, diskGb: 0 };
    const r = await requester.resources.create(alice, { name: 'vm', provisioner: 'demo', spec }, { wait: false });
    await until(
      async () => (await requester.resources.get(alice, r.id)).status === 'RUNNING',
      'the runner to take the job',
    );
  });
});
