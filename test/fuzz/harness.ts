/**
 * The fuzzer's app: the real server (createApp) on a fresh database of either engine, driven
 * through yoga.fetch without a port, with raw request bodies so a test can send JSON that
 * JSON.stringify cannot produce (1e999, nesting deeper than its stack).
 */
import type { DatabaseEngine } from '@slipway/core';
import { createTestStorage, type TestStorage } from '@slipway/core/testing';
import { type App, createApp, loadConfig, mintToken } from '@slipway/server';

const SECRET = 'fuzz-secret-that-is-at-least-32-characters-long';

/**
 * Who sends a request: two users, an admin, nobody, a token signed with the wrong secret, an
 * expired one, and an Authorization header that is no bearer JWT at all.
 */
export const ACTORS = ['alice', 'bob', 'root', 'anon', 'forged', 'expired', 'junk'] as const;
export type ActorName = (typeof ACTORS)[number];
export const USERS = ['alice', 'bob'] as const;
export type UserName = (typeof USERS)[number];

export interface Answer {
  status: number;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  body: unknown;
}

export interface FuzzApp {
  app: App;
  storage: TestStorage;
  /** POST /graphql with `body` as the raw request text. */
  post(body: string, actor: ActorName): Promise<Answer>;
  gql(query: string, variables: Record<string, unknown>, actor: ActorName): Promise<Answer>;
  healthz(): Promise<number>;
  close(): Promise<void>;
}

export async function startFuzzApp(engine: DatabaseEngine, env: Record<string, string> = {}): Promise<FuzzApp> {
  const config = loadConfig({
    SLIPWAY_JWT_SECRET: SECRET,
    SLIPWAY_DATA_DIR: '/nonexistent/never-used',
    LOG_LEVEL: 'silent',
    // Creates are the path that moves credits: let the fuzzer run many (the limit has its own tests).
    SLIPWAY_RATE_LIMIT_CREATES_PER_MINUTE: '100000',
    // A create that asks the demo for a long delay answers PROVISIONING after 1 s instead of 60.
    SLIPWAY_WAIT_SECONDS: '1',
    // The per-account request limit (where the server has one) would refuse most of a run.
    SLIPWAY_RATE_LIMIT_REQUESTS_PER_MINUTE: '1000000',
    ...env,
  });
  const storage = await createTestStorage(engine);
  const app = await createApp(config, { database: storage, provisioners: [] });
  const headers: Partial<Record<ActorName, string>> = { junk: 'Bearer not.a.jwt\u00ff' };
  const tokens: Partial<Record<ActorName, string>> = {
    expired: await mintToken({ secret: SECRET, userId: 'alice', role: 'user', expiresIn: -60 }),
    alice: await mintToken({ secret: SECRET, userId: 'alice', role: 'user' }),
    bob: await mintToken({ secret: SECRET, userId: 'bob', role: 'user' }),
    root: await mintToken({ secret: SECRET, userId: 'root', role: 'admin' }),
    forged: await mintToken({ secret: `${SECRET}-not-ours`, userId: 'root', role: 'admin' }),
  };
  const post = async (body: string, actor: ActorName): Promise<Answer> => {
    const token = tokens[actor];
    const authorization = token ? `Bearer ${token}` : headers[actor];
    const res = await app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body,
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, text, body: parsed };
  };
  return {
    app,
    storage,
    post,
    gql: (query, variables, actor) => post(JSON.stringify({ query, variables }), actor),
    async healthz() {
      const res = await app.yoga.fetch('http://localhost/healthz', { method: 'GET' });
      await res.arrayBuffer();
      return res.status;
    },
    async close() {
      await app.close();
      await storage.close();
    },
  };
}
