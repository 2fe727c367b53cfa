/** Event subscriptions are capped per account, and end when their token expires. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../src/auth.js';
import { createTestApp, TEST_SECRET, type TestApp } from './helpers.js';

const SUBSCRIBE = JSON.stringify({ query: 'subscription { events { seq } }' });

interface Stream {
  /** The first error the stream carried, or undefined when it stayed open for `waitMs`. */
  firstError(waitMs?: number): Promise<{ message: string; extensions?: Record<string, unknown> } | undefined>;
  close(): void;
}

async function post(t: TestApp, token: string, accept: string, signal?: AbortSignal): Promise<Response> {
  return await t.app.yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${token}` },
    body: SUBSCRIBE,
    ...(signal ? { signal } : {}),
  });
}

async function open(t: TestApp, token: string): Promise<Stream> {
  const controller = new AbortController();
  const res = await post(t, token, 'text/event-stream', controller.signal);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    async firstError(waitMs = 400) {
      const deadline = Date.now() + waitMs;
      while (reader && Date.now() < deadline) {
        const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), deadline - Date.now()));
        const chunk = await Promise.race([reader.read(), timeout]);
        if (chunk === 'timeout' || chunk.done) break;
        text += decoder.decode(chunk.value, { stream: true });
        const data = text.split('\n').find((line) => line.startsWith('data:') && line.includes('"errors"'));
        if (data) return JSON.parse(data.slice(5)).errors[0];
      }
      return undefined;
    },
    close: () => controller.abort(),
  };
}

describe('event subscription limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SLIPWAY_MAX_SUBSCRIPTIONS_PER_ACCOUNT: '2' } });
  });
  afterAll(async () => t.close());

  it('refuses an account past its open streams (RATE_LIMITED), other accounts unaffected, and counts a closed one out', async () => {
    const alice = await t.tokenFor('alice');
    const first = await open(t, alice);
    const second = await open(t, alice);
    expect(await first.firstError()).toBeUndefined();
    expect(await second.firstError()).toBeUndefined();

    const third = await open(t, alice);
    const refused = await third.firstError(5_000);
    expect(refused?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 2, retryAfterSeconds: 5 });
    const bob = await open(t, await t.tokenFor('bob'));
    expect(await bob.firstError()).toBeUndefined();

    first.close();
    const again = await open(t, alice);
    expect(await again.firstError()).toBeUndefined();
    for (const s of [second, third, bob, again]) s.close();
  });

  it('counts only streams that ran: a 406 answer or a client gone before the stream started takes no slot', async () => {
    const dave = await t.tokenFor('dave');
    for (const accept of ['application/json', 'multipart/mixed', 'application/json']) {
      const res = await post(t, dave, accept);
      await res.text();
    }
    for (let i = 0; i < 3; i++) {
      const gone = new AbortController();
      const pending = post(t, dave, 'text/event-stream', gone.signal);
      gone.abort();
      await pending.then((res) => res.text()).catch(() => undefined);
    }
    const first = await open(t, dave);
    const second = await open(t, dave);
    expect(await first.firstError()).toBeUndefined();
    expect(await second.firstError()).toBeUndefined();
    first.close();
    second.close();
  });

  it('a token whose exp is past what a date holds has no expiry: the stream stays open', async () => {
    const { SignJWT } = await import('jose');
    const farFuture = await new SignJWT({ role: 'user' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('gina')
      .setExpirationTime(1e13)
      .sign(new TextEncoder().encode(TEST_SECRET));
    const stream = await open(t, farFuture);
    expect(await stream.firstError(1_000)).toBeUndefined();
    stream.close();
  });

  it('ends a stream with UNAUTHENTICATED (expired) when its token expires', async () => {
    const shortLived = await mintToken({ secret: TEST_SECRET, userId: 'carol', expiresIn: 2 });
    const stream = await open(t, shortLived);
    const error = await stream.firstError(6_000);
    expect(error?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'expired' });
    stream.close();
  });
});

describe('event subscriptions on a replica, all accounts together', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SLIPWAY_MAX_SUBSCRIPTIONS: '2' } });
  });
  afterAll(async () => t.close());

  it('refuses one stream past the replica total, whoever asks', async () => {
    const a = await open(t, await t.tokenFor('alice'));
    const b = await open(t, await t.tokenFor('bob'));
    expect(await a.firstError()).toBeUndefined();
    expect(await b.firstError()).toBeUndefined();
    const c = await open(t, await t.tokenFor('carol'));
    expect((await c.firstError(5_000))?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 2 });
    for (const s of [a, b, c]) s.close();
  });
});
