import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, SPEC, type TestApp } from './helpers.js';

interface Next {
  data?: { events: { seq: string; action: string; resourceId: string | null } };
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** Open an SSE subscription through yoga.fetch and collect its `next` messages. */
function open(t: TestApp, query: string, token?: string) {
  const controller = new AbortController();
  const received: Next[] = [];
  const done = (async () => {
    const res = await t.app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query }),
      signal: controller.signal,
    });
    const reader = res.body?.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message.split('\n').find((l) => l.startsWith('data:'));
          if (message.includes('event: next') && data) received.push(JSON.parse(data.slice(5)) as Next);
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    received,
    close: async () => {
      controller.abort();
      await done;
    },
  };
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const CREATE = `mutation($input: CreateResourceInput!) { createResource(input: $input) {
  ... on MutationCreateResourceSuccess { data { id } } } }`;

describe('events subscription over SSE', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(async () => t.close());

  it("streams the user's own events live, and resumes from a cursor without gaps or duplicates", async () => {
    const admin = await t.tokenFor('admin', 'admin');
    const alice = await t.tokenFor('alice');
    const bob = await t.tokenFor('bob');
    await t.gql('mutation { grantCredits(input: { accountId: "alice", amount: 100 }) { __typename } }', {}, admin);

    const live = open(t, 'subscription { events(after: 0) { seq action resourceId } }', alice);
    const other = open(t, 'subscription { events(after: 0) { seq action resourceId } }', bob);
    const made = await t.gql<{ createResource: { data: { id: string } } }>(
      CREATE,
      { input: { name: 'watched', provisioner: 'demo', spec: SPEC } },
      alice,
    );
    const id = made.data?.createResource.data.id;
    await until(() => live.received.some((m) => m.data?.events.action === 'resource.created'));
    await live.close();
    await other.close();

    const actions = live.received.map((m) => m.data?.events.action);
    expect(actions).toEqual(['credits.granted', 'resource.requested', 'demo.allocated', 'resource.created']);
    expect(live.received.at(-1)?.data?.events.resourceId).toBe(id);
    expect(other.received).toEqual([]);

    // seq is a BigInt: a decimal string, passed back as it came.
    const cursor = live.received[1]?.data?.events.seq ?? '0';
    const resumed = open(t, `subscription { events(after: "${cursor}") { seq action resourceId } }`, alice);
    await until(() => resumed.received.length >= 2);
    await resumed.close();
    expect(resumed.received.map((m) => m.data?.events.seq)).toEqual(
      live.received.slice(2).map((m) => m.data?.events.seq),
    );
  });

  it('refuses an anonymous subscriber with UNAUTHENTICATED', async () => {
    const anon = open(t, 'subscription { events { seq } }');
    await until(() => anon.received.length > 0);
    await anon.close();
    expect(anon.received[0]?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
