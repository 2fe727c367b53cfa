// Power actions (shutdown then power_off, power_on, reboot, power_cycle) and the paged inventory.
import { conformanceContext } from '@slipway/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { DigitalOceanFake } from '../support/digitalocean-fake.js';
import { request, setup } from './helpers.js';

let current: DigitalOceanFake | undefined;
afterEach(() => {
  expect(current?.violations ?? []).toEqual([]);
  current = undefined;
});

async function running() {
  const s = await setup();
  current = s.fake;
  const allocation = await s.provisioner.allocate(request(), conformanceContext());
  const actions = () =>
    [...s.fake.store.actions.values()]
      .filter((a) => String(a.resource_id) === allocation.externalId && a.type !== 'create')
      .map((a) => `${a.type}:${a.status}`);
  return { ...s, allocation, actions };
}

describe('DigitalOcean power', () => {
  it('stop = a graceful shutdown that reaches off; start = power_on back to running', async () => {
    const { provisioner, allocation, actions } = await running();
    const ctx = conformanceContext();
    await provisioner.stop(allocation, ctx);
    expect(actions()).toEqual(['shutdown:completed']);
    expect((await provisioner.status(allocation, ctx)).state).toBe('stopped');
    await provisioner.stop(allocation, ctx); // already off: nothing to do
    expect(actions()).toEqual(['shutdown:completed']);
    await provisioner.start(allocation, ctx);
    expect(actions()).toEqual(['shutdown:completed', 'power_on:completed']);
    expect((await provisioner.status(allocation, ctx)).state).toBe('running');
    expect(ctx.emitted.map((e) => e.action)).toEqual(['digitalocean.droplet_stopped', 'digitalocean.droplet_power_on']);
  });

  it('stop: a guest that ignores shutdown is powered off after the deadline (a warning event)', async () => {
    const { fake, provisioner, allocation, actions } = await running();
    fake.store.ignoreShutdown = true;
    const ctx = conformanceContext();
    await provisioner.stop(allocation, ctx);
    expect(actions()).toEqual(['shutdown:completed', 'power_off:completed']);
    expect((await provisioner.status(allocation, ctx)).state).toBe('stopped');
    expect(ctx.emitted).toContainEqual(
      expect.objectContaining({ action: 'digitalocean.droplet_stopped', severity: 'warning' }),
    );
  });

  it('restart = reboot; reset hard = power_cycle, soft = reboot; each waits for its action', async () => {
    const { provisioner, allocation, actions } = await running();
    const ctx = conformanceContext();
    await provisioner.restart(allocation, ctx);
    await provisioner.reset(allocation, 'hard', ctx);
    await provisioner.reset(allocation, 'soft', ctx);
    expect(actions()).toEqual(['reboot:completed', 'power_cycle:completed', 'reboot:completed']);
    expect((await provisioner.status(allocation, ctx)).state).toBe('running');
  });

  it('an action refused with "pending event" is retryable; power on a droplet that is gone is NOT_FOUND', async () => {
    const { fake, provisioner, allocation } = await running();
    fake.inject('pending_event', { method: 'POST', path: '/v2/droplets/{droplet_id}/actions' });
    await expect(provisioner.restart(allocation, conformanceContext())).rejects.toMatchObject({
      code: 'PROVISIONER_FAILED',
      retryable: true,
    });
    await provisioner.release(allocation, conformanceContext());
    await expect(provisioner.start(allocation, conformanceContext())).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('works by tag when the external id is unknown', async () => {
    const { provisioner, allocation, actions } = await running();
    await provisioner.stop({ resourceId: allocation.resourceId, externalId: '' }, conformanceContext());
    expect(actions()).toEqual(['shutdown:completed']);
  });
});

describe('DigitalOcean inventory', () => {
  it('lists every droplet with the base tag across pages (GPU ones too), with the ids from its tags', async () => {
    const { fake, provisioner } = await setup();
    current = fake;
    fake.maxPerPage = 2;
    const ctx = conformanceContext();
    const reqs = [request(), request(), request(), request({ requestId: 'not tag safe!' })];
    const gpu = request({ options: { size: 'gpu-h100x1-80gb' } });
    const built = await Promise.all([...reqs, gpu].map((r) => provisioner.allocate(r, ctx)));
    // Another installation's droplet (other prefix) is not ours.
    fake.store.create({ name: 'other', size: 's-1vcpu-1gb', image: 'ubuntu-24-04-x64', tags: ['other-slipway'] });

    const items = await provisioner.inventory(ctx);
    expect(items).toHaveLength(5);
    for (const [i, r] of [...reqs, gpu].entries()) {
      const item = items.find((x) => x.externalId === built[i]?.externalId);
      expect(item?.resourceId).toBe(r.resourceId);
      if (r.requestId === 'not tag safe!') expect(item?.requestId).toBeUndefined();
      else expect(item?.requestId).toBe(r.requestId);
    }
    const pages = fake.requests.filter(
      (q) => q.method === 'GET' && q.path === '/v2/droplets' && q.search.includes('tag_name=slipway&'),
    );
    expect(pages.map((q) => new URLSearchParams(q.search).get('page'))).toEqual(['1', '2', '3']);
    expect(pages.every((q) => new URLSearchParams(q.search).get('per_page') === '200')).toBe(true);
    // A plain list hides GPU droplets, as DigitalOcean's does.
    const plain = await fake.fetch(`${fake.baseUrl}/v2/droplets?per_page=200`, {
      headers: { authorization: `Bearer ${fake.token}` },
    });
    const body = (await plain.json()) as { droplets: { id: number }[]; meta: { total: number } };
    expect(body.meta.total).toBe(5);
  });
});
