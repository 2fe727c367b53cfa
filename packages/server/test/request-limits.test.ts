/**
 * The request body limit (HTTP 413 before the body is parsed, declared or chunked) and the
 * per-account request rate limit (counted in the database like the create limit; anonymous
 * callers per address in memory), over a real node:http listener.
 */
import { request as httpRequest } from 'node:http';
import { createTestStorage, type TestStorage } from '@slipway/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { mintToken } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { type Listening, listen } from '../src/http.js';
import { TEST_SECRET } from './helpers.js';

interface Served {
  app: App;
  storage: TestStorage;
  listening: Listening;
}

async function serve(env: Record<string, string>): Promise<Served> {
  const config = loadConfig({
    SLIPWAY_JWT_SECRET: TEST_SECRET,
    SLIPWAY_DATA_DIR: '/nonexistent/never-used',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const storage = await createTestStorage('pglite');
  const app = await createApp(config, { database: storage, start: false });
  return { app, storage, listening: await listen(app.yoga, '127.0.0.1', 0) };
}

async function stop(s: Served | undefined) {
  await s?.listening.close();
  await s?.app.close();
  await s?.storage.close();
}

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function post(url: string, body: unknown, token?: string): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  // Each answer's own headers: a content-length carried over from another answer would cut or stall this one.
  expect(Number(res.headers.get('content-length') ?? Buffer.byteLength(text))).toBe(Buffer.byteLength(text));
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as Answer['body'] };
}

/** POST a body in chunks with no content-length (transfer-encoding: chunked). */
function postChunked(url: string, chunks: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer 413 and close while chunks are still going out.
    req.on('error', (error) => (error.message.includes('EPIPE') ? undefined : reject(error)));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const LIMIT = 16 * 1024;

describe('request body limit', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve({ SLIPWAY_MAX_BODY_BYTES: String(LIMIT) });
  });
  afterAll(async () => stop(s));

  it('a body within the limit is served', async () => {
    const answer = await post(s.listening.url, { query: '{ health }', variables: { pad: 'x'.repeat(LIMIT - 100) } });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({ health: 'ok' });
  });

  it('a declared body over the limit is 413 with a typed error, each time whole', async () => {
    for (const size of [LIMIT, 2 * LIMIT, LIMIT]) {
      const answer = await post(s.listening.url, { query: '{ health }', variables: { pad: 'x'.repeat(size) } });
      expect(answer.status).toBe(413);
      expect(answer.body.errors?.[0]?.extensions).toEqual({
        code: 'QUERY_TOO_COMPLEX',
        limit: 'bodyBytes',
        max: LIMIT,
      });
      expect((await post(s.listening.url, { query: '{ health }' })).status).toBe(200);
    }
  });

  it('a chunked body is counted as it arrives: 413 over the limit, served under it', async () => {
    const pad = 'x'.repeat(1024);
    const big = [`{"query":"{ health }","variables":{"pad":"`, ...Array.from({ length: 32 }, () => pad), `"}}`];
    const refused = await postChunked(s.listening.url, big);
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    const small = await postChunked(s.listening.url, ['{"query":', '"{ health }"}']);
    expect(small.status).toBe(200);
    expect(JSON.parse(small.body)).toEqual({ data: { health: 'ok' } });
  });
});

describe('request rate limit', () => {
  const PER_MINUTE = 3;
  let s: Served;
  beforeAll(async () => {
    s = await serve({ SLIPWAY_RATE_LIMIT_REQUESTS_PER_MINUTE: String(PER_MINUTE) });
    // Fixed 1-minute windows: start well inside one so the counts below share it.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
  }, 70_000);
  afterAll(async () => stop(s));

  const token = (userId: string) => mintToken({ secret: TEST_SECRET, userId });

  it('counts each account across requests, in the database, and answers RATE_LIMITED with retryAfterSeconds', async () => {
    const alice = await token('alice');
    for (let i = 0; i < PER_MINUTE; i++) {
      expect((await post(s.listening.url, { query: '{ me { id } }' }, alice)).body.data).toEqual({
        me: { id: 'alice' },
      });
    }
    const refused = await post(s.listening.url, { query: '{ me { id } }' }, alice);
    expect(refused.status).toBe(429);
    expect(refused.body.data ?? null).toBeNull();
    const extensions = refused.body.errors?.[0]?.extensions ?? {};
    expect(extensions).toMatchObject({ code: 'RATE_LIMITED', limit: PER_MINUTE });
    expect(extensions.http).toBeUndefined();
    const retryAfter = Number(extensions.retryAfterSeconds);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('retry-after')).toBe(String(retryAfter));
    // Mutations are requests too.
    const grant = await post(s.listening.url, { query: 'mutation { __typename }' }, alice);
    expect(grant.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    // Another account has its own count.
    expect((await post(s.listening.url, { query: '{ me { id } }' }, await token('bob'))).status).toBe(200);
    const rows = await s.app.slipway.storage.db
      .selectFrom('rate_limits')
      .select(['account_id', 'count'])
      .where('action', '=', 'request')
      .orderBy('account_id')
      .execute();
    expect(rows).toEqual([
      { account_id: 'alice', count: PER_MINUTE },
      { account_id: 'bob', count: 1 },
    ]);
  });

  it('anonymous callers (and refused tokens) are counted per address', async () => {
    const expired = await mintToken({ secret: TEST_SECRET, userId: 'carol', expiresIn: -60 });
    for (let i = 0; i < PER_MINUTE; i++) {
      const answer = await post(s.listening.url, { query: '{ health }' }, i === 0 ? expired : undefined);
      expect(answer.body.data).toEqual({ health: 'ok' });
    }
    const refused = await post(s.listening.url, { query: '{ health }' });
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('0 turns it off', async () => {
    const off = await serve({ SLIPWAY_RATE_LIMIT_REQUESTS_PER_MINUTE: '0' });
    try {
      const dave = await token('dave');
      for (let i = 0; i < 10; i++)
        expect((await post(off.listening.url, { query: '{ me { id } }' }, dave)).status).toBe(200);
    } finally {
      await stop(off);
    }
  });
});
