/**
 * pgListen with a stand-in pg.Client (review 5 regressions): a close while a reconnect is under
 * way left that connection open (it ended only once, if ever, its connect returned), and the
 * connection options left a cut network unnoticed for the OS's keepalive time (2 h on Linux)
 * and a connect to an unreachable server waiting for good.
 */
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pgListen } from '../src/storage/pg-listener.js';

interface FakeClient {
  config: Record<string, unknown>;
  ended: boolean;
  emit(event: string, ...args: unknown[]): boolean;
}

/** A pg.Client whose first connect succeeds and every later one hangs until `end()`. */
function fakeClients() {
  const made: FakeClient[] = [];
  class Fake extends EventEmitter implements FakeClient {
    ended = false;
    readonly #first = made.length === 0;
    #fail: (e: Error) => void = () => {};
    constructor(readonly config: Record<string, unknown>) {
      super();
      made.push(this);
    }
    connect(): Promise<void> {
      if (this.#first) return Promise.resolve();
      return new Promise((_, reject) => {
        this.#fail = reject;
      });
    }
    async query(): Promise<void> {}
    async end(): Promise<void> {
      this.ended = true;
      this.#fail(new Error('ended while connecting'));
    }
  }
  return { Client: Fake as unknown as typeof pg.Client, made };
}

describe('pgListen', () => {
  it('a close during a reconnect ends that connection too', async () => {
    const { Client, made } = fakeClients();
    const stop = await pgListen(Client, 'postgres://x', 'ch', () => {});
    made[0]?.emit('error', new Error('terminated')); // the connection dies
    for (let i = 0; i < 200 && made.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(made).toHaveLength(2); // reconnecting, its connect hanging (a server that does not answer)
    await stop();
    expect(made.map((c) => c.ended)).toEqual([true, true]);
  });

  it('detects a cut network within seconds and gives up an unanswered connect', async () => {
    const { Client, made } = fakeClients();
    const stop = await pgListen(Client, 'postgres://x', 'ch', () => {});
    const config = made[0]?.config ?? {};
    expect(config.keepAlive).toBe(true);
    expect(config.keepAliveInitialDelayMillis).toBeGreaterThan(0);
    expect(config.keepAliveInitialDelayMillis).toBeLessThanOrEqual(30_000);
    expect(config.connectionTimeoutMillis).toBeGreaterThan(0);
    await stop();
  });
});
