/** The release hook against a real HTTP server on 127.0.0.1, run the way the core's job runner runs it. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isSlipwayError } from '@slipway/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { poolProvisioner, type ReleaseHookPayload } from '../src/index.js';
import { machines, record, request, runJobs, testContext } from './helpers.js';

interface Hit {
  readonly body: ReleaseHookPayload;
  readonly headers: IncomingMessage['headers'];
}

describe('release hook over HTTP', () => {
  let server: Server;
  let url: string;
  let hits: Hit[];
  /** How the deployer answers the next requests; when empty, 200. */
  let answers: Array<number | ((res: ServerResponse) => void)>;

  beforeEach(async () => {
    hits = [];
    answers = [];
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => {
        raw += chunk.toString();
      });
      req.on('end', () => {
        hits.push({ body: JSON.parse(raw) as ReleaseHookPayload, headers: req.headers });
        const answer = answers.shift() ?? 200;
        if (typeof answer === 'function') return answer(res);
        res.writeHead(answer, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: answer < 300 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/release-vm`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const provisioner = () =>
    poolProvisioner({
      source: { kind: 'static', machines: machines(1) },
      releaseHook: { url, headers: { authorization: 'Bearer deployer-token' }, maxAttempts: 5, timeoutMs: 5_000 },
    });

  it('release marks the machine cleaning and enqueues one durable job per machine and tenancy', async () => {
    const p = provisioner();
    const ctx = testContext();
    const req = request({ ownerId: 'alice' });
    const a = await p.allocate(req, ctx);
    await p.release(a, ctx);
    await p.release(a, ctx);
    expect(await record(ctx, 'm-00')).toMatchObject({ status: 'cleaning', resourceId: req.resourceId });
    expect((await p.status(a, ctx)).state).toBe('gone');
    expect(ctx.jobs.enqueued).toEqual([
      {
        kind: 'release-hook',
        key: `pool-release-hook:m-00:${req.resourceId}`,
        maxAttempts: 5,
        payload: {
          machineId: 'm-00',
          name: 'machine 0',
          host: '10.0.0.1',
          sshPort: 22,
          resourceId: req.resourceId,
          ownerId: 'alice',
          requestId: req.requestId,
        },
      },
    ]);
    // A cleaning machine is not handed out.
    const error = await p.allocate(request(), ctx).catch((e: unknown) => e);
    expect(isSlipwayError(error, 'CAPACITY_EXHAUSTED')).toBe(true);
    expect(hits).toEqual([]); // the POST belongs to the job, not to release
  });

  it('the machine becomes available only after the POST succeeded', async () => {
    const p = provisioner();
    const ctx = testContext();
    const req = request();
    await p.release(await p.allocate(req, ctx), ctx);
    let respond = (): void => {};
    answers.push((res) => {
      respond = () => res.writeHead(204).end();
    });
    const running = runJobs(p, ctx);
    await expect.poll(() => hits.length).toBe(1);
    expect((await record(ctx, 'm-00'))?.status).toBe('cleaning');
    respond();
    expect(await running).toEqual([]);
    expect(await record(ctx, 'm-00')).toMatchObject({ status: 'available', resourceId: null });
    expect(hits[0]?.body).toMatchObject({ machineId: 'm-00', name: 'machine 0', resourceId: req.resourceId });
    expect(hits[0]?.headers).toMatchObject({
      authorization: 'Bearer deployer-token',
      'content-type': 'application/json',
    });
    expect(ctx.emitted.filter((e) => e.action === 'pool.release_hook.succeeded')).toHaveLength(1);
    expect((await p.allocate(request(), ctx)).externalId).toBe('m-00');
  });

  it('throws on 500 so the core retries; the machine stays cleaning until a 200', async () => {
    const p = provisioner();
    const ctx = testContext();
    await p.release(await p.allocate(request(), ctx), ctx);
    answers.push(500, 500, 200);
    for (const attempt of [1, 2]) {
      const errors = await runJobs(p, ctx);
      expect(errors).toHaveLength(1);
      expect(String(errors[0])).toContain('HTTP 500');
      expect(hits).toHaveLength(attempt);
      expect((await record(ctx, 'm-00'))?.status).toBe('cleaning');
    }
    expect(await runJobs(p, ctx)).toEqual([]);
    expect(hits).toHaveLength(3);
    expect(hits.every((h) => h.body.machineId === 'm-00')).toBe(true);
    expect((await record(ctx, 'm-00'))?.status).toBe('available');
    expect(ctx.emitted.filter((e) => e.action === 'pool.release_hook.succeeded')).toHaveLength(1);
  });

  it('a late duplicate run after success does not POST again', async () => {
    const p = provisioner();
    const ctx = testContext();
    await p.release(await p.allocate(request(), ctx), ctx);
    const [job] = ctx.jobs.enqueued;
    expect(await runJobs(p, ctx)).toEqual([]);
    const other = await p.allocate(request(), ctx);
    await p.jobHandlers['release-hook']?.(job?.payload ?? {}, ctx);
    expect(hits).toHaveLength(1);
    expect(await record(ctx, 'm-00')).toMatchObject({ status: 'allocated', resourceId: other.resourceId });
  });

  it('an unreachable deployer is an error to retry', async () => {
    const p = poolProvisioner({
      source: { kind: 'static', machines: machines(1) },
      releaseHook: { url: 'http://127.0.0.1:1/admin/release-vm', timeoutMs: 2_000 },
    });
    const ctx = testContext();
    await p.release(await p.allocate(request(), ctx), ctx);
    expect(await runJobs(p, ctx)).toHaveLength(1);
    expect((await record(ctx, 'm-00'))?.status).toBe('cleaning');
  });
});

describe('release without a hook', () => {
  it('frees the machine at once and enqueues nothing', async () => {
    const p = poolProvisioner({ source: { kind: 'static', machines: machines(1) } });
    const ctx = testContext();
    await p.release(await p.allocate(request(), ctx), ctx);
    expect((await record(ctx, 'm-00'))?.status).toBe('available');
    expect(ctx.jobs.enqueued).toEqual([]);
  });

  it('uses an injected fetch', async () => {
    const calls: string[] = [];
    const p = poolProvisioner({
      source: { kind: 'static', machines: machines(1) },
      releaseHook: { url: 'https://deployer.example/admin/release-vm' },
      fetch: async (u, init) => {
        calls.push(`${init.method} ${u} ${String(init.body)}`);
        return new Response(null, { status: 200 });
      },
    });
    const ctx = testContext();
    await p.release(await p.allocate(request(), ctx), ctx);
    expect(await runJobs(p, ctx)).toEqual([]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^POST https:\/\/deployer\.example\/admin\/release-vm \{"machineId":"m-00"/);
  });
});
