/**
 * The HTTP routes beside GraphQL over a real node:http listener, with keep-alive: every
 * answer carries its own headers, so a 200 followed by a 401, 405 or 404 on the same route
 * is delivered whole (a shared headers object once carried the first answer's
 * content-length into the next: a cut body, or a client left hanging).
 */
import { createTestStorage, type TestStorage } from '@slipway/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { type Listening, listen, POOL_REFRESH_PATH } from '../src/http.js';
import { TEST_SECRET } from './helpers.js';

const ADMIN_SECRET = 'http-routes-admin-secret-0123456789';

async function serve(
  adminSecret?: string,
): Promise<{ app: App; storage: TestStorage; listening: Listening; base: string }> {
  const config = loadConfig({
    SLIPWAY_JWT_SECRET: TEST_SECRET,
    SLIPWAY_DATA_DIR: '/nonexistent/never-used',
    LOG_LEVEL: 'silent',
    PROVISIONER_DEMO: 'true',
    ...(adminSecret ? { SLIPWAY_ADMIN_SECRET: adminSecret } : {}),
  });
  const storage = await createTestStorage('pglite');
  const app = await createApp(config, { database: storage, start: false });
  const listening = await listen(app.yoga, '127.0.0.1', 0);
  return { app, storage, listening, base: listening.url.replace(/\/graphql$/, '') };
}

/** Read the whole answer, with a deadline: a wrong content-length cuts the body or never ends it. */
async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  expect(Number(response.headers.get('content-length') ?? text.length)).toBe(Buffer.byteLength(text));
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
}

describe('HTTP routes answer each request with its own headers', () => {
  let enabled: Awaited<ReturnType<typeof serve>>;
  let disabled: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    enabled = await serve(ADMIN_SECRET);
    disabled = await serve();
  });
  afterAll(async () => {
    for (const s of [enabled, disabled]) {
      await s?.listening.close();
      await s?.app.close();
      await s?.storage.close();
    }
  });

  it('alternating 200, 401, 405 and 404 answers on one keep-alive connection arrive whole', async () => {
    const url = `${enabled.base}${POOL_REFRESH_PATH}`;
    for (let round = 0; round < 3; round++) {
      const ok = await call(url, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_SECRET}` } });
      expect(ok.status).toBe(200);
      const refused = await call(url, { method: 'POST' });
      expect(refused).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
      const wrongMethod = await call(url, { method: 'GET' });
      expect(wrongMethod).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED' } } });
      const health = await call(`${enabled.base}/healthz`);
      expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    }
  });

  it('a disabled route says so in full every time', async () => {
    for (let round = 0; round < 3; round++) {
      const r = await call(`${disabled.base}${POOL_REFRESH_PATH}`, { method: 'POST' });
      expect(r).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    }
  });
});
