import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSlipwayError, type SlipwayError } from '@slipway/core';
import { describe, expect, it } from 'vitest';
import { DEMO_POOL, poolProvisioner, poolProvisionerFromEnv } from '../src/index.js';
import { machines, request, runJobs, testContext } from './helpers.js';

const tmpFile = (content: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'slipway-pool-')), 'pool.json');
  writeFileSync(path, content);
  return path;
};

describe('poolProvisionerFromEnv', () => {
  it('reads VM_POOL_JSON', async () => {
    const p = poolProvisionerFromEnv({ VM_POOL_JSON: JSON.stringify({ pool: machines(2) }) });
    expect(p?.isDemo).toBe(false);
    expect(p?.name).toBe('pool');
    const ctx = testContext();
    expect((await p?.allocate(request(), ctx))?.externalId).toMatch(/^m-0[01]$/);
  });

  it('reads VM_POOL_FILE, and re-reads it on refresh', async () => {
    const path = tmpFile(JSON.stringify(machines(1)));
    const p = poolProvisionerFromEnv({ VM_POOL_FILE: path });
    if (!p) throw new Error('expected a provisioner');
    const ctx = testContext();
    expect((await p.refresh(ctx)).poolSize).toBe(1);
    writeFileSync(path, JSON.stringify(machines(3)));
    expect(await p.refresh(ctx)).toMatchObject({ prevPoolSize: 1, poolSize: 3, added: ['m-01', 'm-02'] });
    writeFileSync(path, '[{"id": "x"}]');
    await expect(p.refresh(ctx)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await p.allocations(ctx)).map((m) => m.machineId)).toEqual(['m-00', 'm-01', 'm-02']);
  });

  it('fails start-up on a bad pool, naming the variable and every problem', () => {
    const bad = JSON.stringify([
      { id: 'a', host: '10.0.0.1' },
      { id: 'a', host: '10.0.0.2', size: { vcpu: 1, memoryMb: 1, diskGb: 1 } },
    ]);
    const error = (() => {
      try {
        return poolProvisionerFromEnv({ VM_POOL_JSON: bad });
      } catch (e) {
        return e;
      }
    })() as SlipwayError;
    expect(isSlipwayError(error, 'CONFIG_INVALID')).toBe(true);
    expect(error.message).toMatch(/^VM_POOL_JSON: /);
    expect(error.details).toMatchObject({ variable: 'VM_POOL_JSON' });
    expect(error.details.problems).toHaveLength(1);
    expect(() => poolProvisionerFromEnv({ VM_POOL_FILE: '/nonexistent/pool.json' })).toThrow(
      /VM_POOL_FILE: pool: cannot read/,
    );
    expect(() => poolProvisionerFromEnv({ VM_POOL_JSON: '[]', VM_POOL_FILE: '/x' })).toThrow(/not both/);
  });

  it('uses the demo pool in demo mode when nothing is configured', async () => {
    const p = poolProvisionerFromEnv({}, { demo: true });
    expect(p?.isDemo).toBe(true);
    const ctx = testContext();
    await p?.refresh(ctx);
    expect((await p?.allocations(ctx))?.map((m) => m.machineId).sort()).toEqual(DEMO_POOL.map((m) => m.id).sort());
    expect(poolProvisionerFromEnv({})).toBeUndefined();
    expect(poolProvisionerFromEnv({ VM_POOL_JSON: '[]' }, { demo: true })?.isDemo).toBe(false);
  });

  it('configures the release hook from VM_POOL_RELEASE_HOOK_*', async () => {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const p = poolProvisionerFromEnv(
      {
        VM_POOL_JSON: JSON.stringify(machines(1)),
        VM_POOL_RELEASE_HOOK_URL: 'https://deployer.example/admin/release-vm',
        VM_POOL_RELEASE_HOOK_TOKEN: 's3cret',
        VM_POOL_RELEASE_HOOK_MAX_ATTEMPTS: '3',
      },
      {
        fetch: async (url, init) => {
          calls.push({ url, init });
          return new Response('{}');
        },
      },
    );
    if (!p) throw new Error('expected a provisioner');
    const ctx = testContext();
    await p.release(await p.allocate(request(), ctx), ctx);
    expect(ctx.jobs.enqueued[0]?.maxAttempts).toBe(3);
    await runJobs(p, ctx);
    expect(calls[0]?.url).toBe('https://deployer.example/admin/release-vm');
    expect(calls[0]?.init.headers).toMatchObject({ authorization: 'Bearer s3cret' });
    expect(() => poolProvisionerFromEnv({ VM_POOL_JSON: '[]', VM_POOL_RELEASE_HOOK_URL: 'nope' })).toThrow(
      /VM_POOL_RELEASE_HOOK_URL/,
    );
  });
});

describe('poolProvisioner options', () => {
  it('refuses a bad static pool and a bad name at once', () => {
    expect(() => poolProvisioner({ source: { kind: 'static', machines: [...machines(1), ...machines(1)] } })).toThrow(
      /duplicate id/,
    );
    expect(() => poolProvisioner({ name: 'Pool!', source: { kind: 'static', machines: [] } })).toThrow(/name/);
  });

  it('reads VM_POOL_JSON through an env source', async () => {
    const p = poolProvisioner({ source: { kind: 'env', env: { VM_POOL_JSON: JSON.stringify(machines(2)) } } });
    expect((await p.refresh(testContext())).poolSize).toBe(2);
    const none = poolProvisioner({ source: { kind: 'env', env: {} } });
    await expect(none.refresh(testContext())).rejects.toMatchObject({
      details: { problems: ['pool: neither VM_POOL_JSON nor VM_POOL_FILE is set'] },
    });
  });
});
