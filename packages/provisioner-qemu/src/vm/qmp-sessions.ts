/**
 * One long-lived QMP client per VM, in this process's memory (QEMU serves one client per
 * socket, so every operation and the watcher share it). Every event of every VM goes to the
 * listeners, tagged with the VM it came from.
 */
import type { Logger } from '@slipway/core';
import { QmpClient } from '../qmp/qmp-client.js';
import type { QmpEvent } from '../qmp/qmp-message.js';

/** `current`: whether `client` is still this VM's session (false once it was dropped or replaced). */
export type VmEventListener = (vmId: string, event: QmpEvent, current: boolean) => void;

export class QmpSessions {
  readonly #clients = new Map<string, QmpClient>();
  readonly #connecting = new Map<string, Promise<QmpClient>>();
  readonly #listeners = new Set<VmEventListener>();

  constructor(private readonly options: { connectMs: number; logger: () => Logger }) {}

  /** The VM's client, connecting it first when needed. */
  async get(vmId: string, socketPath: string, signal?: AbortSignal): Promise<QmpClient> {
    const current = this.#clients.get(vmId);
    if (current && (current.state === 'ready' || current.state === 'reconnecting')) return current;
    const pending = this.#connecting.get(vmId);
    if (pending) return pending;
    const connecting = this.#connect(vmId, socketPath, current, signal).finally(() => this.#connecting.delete(vmId));
    this.#connecting.set(vmId, connecting);
    return connecting;
  }

  /** The client if one is connected, without connecting. */
  peek(vmId: string): QmpClient | undefined {
    return this.#clients.get(vmId);
  }

  /** Close and forget the VM's client (its QEMU is gone or going). */
  async drop(vmId: string): Promise<void> {
    const client = this.#clients.get(vmId);
    this.#clients.delete(vmId);
    await client?.close();
  }

  onEvent(listener: VmEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Close every client; the VMs keep running. */
  async closeAll(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(clients.map((client) => client.close()));
  }

  async #connect(vmId: string, socketPath: string, stale: QmpClient | undefined, signal?: AbortSignal) {
    await stale?.close();
    const logger = this.options.logger().child({ vmId });
    // A few reconnects ride out a QEMU that restarts its monitor; a QEMU that exited is noticed by
    // whoever sees the disconnect, and the client is dropped then.
    const client = new QmpClient({ socketPath, logger, reconnect: { maxAttempts: 5 } });
    client.onEvent((event) => {
      for (const listener of this.#listeners) {
        try {
          listener(vmId, event, this.#clients.get(vmId) === client);
        } catch (error) {
          logger.warn('qemu event listener failed', { error: String(error) });
        }
      }
    });
    this.#clients.set(vmId, client); // current from the start: events during the handshake count
    try {
      await client.connect({ timeoutMs: this.options.connectMs, ...(signal ? { signal } : {}) });
    } catch (error) {
      if (this.#clients.get(vmId) === client) this.#clients.delete(vmId);
      await client.close();
      throw error;
    }
    return client;
  }
}

/** Runs one operation at a time per key (a VM), in call order. */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const result = before.catch(() => undefined).then(fn);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
