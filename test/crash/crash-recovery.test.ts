/**
 * Crash tests: a real server process is killed with SIGKILL at each step of create and
 * release (SLIPWAY_FAULT_KILL_AT), a second process is started on the same PostgreSQL, and
 * once its job runner and sweepers have settled everything: credits are conserved, no
 * resource lacks a charge or a hold, no requestId has two resources, and the provider holds
 * a machine exactly for the RUNNING resources.
 */

import { type Actor, createSlipway, FAULT_POINTS, type FaultPoint, type Slipway } from '@slipway/core';
import { createTestStorage, type TestStorage } from '@slipway/core/testing';
import { mintToken } from '@slipway/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, quiesced } from '../support/invariants.js';
import { eventually, gql, type ServerProcess, startServer } from '../support/server-process.js';

const SECRET = 'crash-test-secret-0123456789-abcdefghij';
const admin: Actor = { id: 'admin', role: 'admin' };
const CREATE = `mutation($input: CreateResourceInput!) { createResource(input: $input) {
  __typename ... on MutationCreateResourceSuccess { data { id status } } ... on Error { code message } } }`;
const RELEASE = `mutation($id: ID!) { releaseResource(id: $id) {
  __typename ... on MutationReleaseResourceSuccess { data { id status } } ... on Error { code message } } }`;
const RESIZE = `mutation($id: ID!) { resizeResource(id: $id, input: { vcpu: 2 }) {
  __typename ... on Error { code message } } }`;
const input = {
  name: 'crashy',
  provisioner: 'demo',
  spec: { vcpu: 1, memoryMb: 512, diskGb: 0 },
  requestId: 'crash-1',
};

interface DemoMachine {
  released: boolean;
}

// One server environment for every process of a case; only the fault differs.
const env = (url: string, fault?: FaultPoint): Record<string, string> => ({
  DATABASE_URL: url,
  SLIPWAY_JWT_SECRET: SECRET,
  PROVISIONER_DEMO: 'true',
  SLIPWAY_JOB_LEASE_MS: '1500',
  SLIPWAY_SWEEP_INTERVAL_MS: '200',
  ...(fault ? { SLIPWAY_FAULT_KILL_AT: fault } : {}),
});

describe.each(FAULT_POINTS)('kill -9 at %s', (fault) => {
  let storage: TestStorage;
  let core: Slipway;
  let token: string;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    storage = await createTestStorage('postgres');
    core = await createSlipway({ database: storage });
    await core.accounts.grant(admin, { accountId: 'crasher', amount: 100 });
    token = await mintToken({ secret: SECRET, userId: 'crasher', role: 'user', expiresIn: '1h' });
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await core.close();
    await storage.close();
  });

  it('recovers with credits conserved, no orphan, no duplicate', { timeout: 90_000 }, async () => {
    const url = storage.url as string;
    const doomed = await startServer(env(url, fault));
    servers.push(doomed);
    let resourceId: string | undefined;
    const afterCreate = fault.startsWith('release.') || fault.startsWith('operation.');
    if (afterCreate) {
      const created = await gql<{ createResource: { data?: { id: string; status: string } } }>(
        doomed.url,
        token,
        CREATE,
        {
          input,
        },
      );
      resourceId = created.data?.createResource.data?.id;
      expect(created.data?.createResource.data?.status).toBe('RUNNING');
      const doomedCall = fault.startsWith('release.') ? RELEASE : RESIZE;
      await expect(gql(doomed.url, token, doomedCall, { id: resourceId })).rejects.toThrow();
    } else {
      await expect(gql(doomed.url, token, CREATE, { input })).rejects.toThrow();
    }
    expect((await doomed.exited).signal).toBe('SIGKILL');

    const survivor = await startServer(env(url));
    servers.push(survivor);
    await eventually(() => quiesced(storage.db), 'the survivor to settle every job', 60_000);

    // A client retrying the same request gets the one resource, never a second.
    const retry = await gql<{ createResource: { __typename: string; data?: { id: string; status: string } } }>(
      survivor.url,
      token,
      CREATE,
      { input },
    );
    const rows = await storage.db.selectFrom('resources').selectAll().execute();
    expect(rows).toHaveLength(1);
    const row = rows[0];
    if (resourceId) expect(row?.id).toBe(resourceId);
    if (fault.startsWith('release.')) expect(row?.status).toBe('RELEASED');
    else expect(row?.status).toBe('RUNNING');
    expect(retry.data?.createResource.data?.id).toBe(row?.id);

    const report = await checkInvariants(storage.db);
    expect(report.problems).toEqual([]);
    const wallet = await core.ledger.wallet(storage.db, 'crasher');
    if (fault.startsWith('operation.')) {
      // The resize the crash interrupted is pending once (re-run by the survivor), its
      // difference held once: 2 vCPU prices 10 more than 1.
      expect(row?.pending_spec).toMatchObject({ vcpu: 2 });
      expect(row?.operation).toBeNull();
      expect(wallet).toMatchObject({ balance: 85, held: 10 });
    } else {
      expect(wallet).toMatchObject({ balance: 85, held: 0 }); // exactly one charge of 15
    }

    // The provider holds a machine exactly for RUNNING resources.
    const machines = await storage.db
      .selectFrom('provisioner_store')
      .select(['key', 'value'])
      .where('namespace', '=', 'demo')
      .execute();
    const live = machines.filter((m) => !(m.value as unknown as DemoMachine).released).map((m) => m.key);
    expect(live).toEqual(row?.status === 'RUNNING' ? [`machine/${row.id}`] : []);
  });
});
