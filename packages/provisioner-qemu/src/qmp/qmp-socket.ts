import net from 'node:net';
import type { Logger } from '@slipway/core';
import { LineReader } from './line-reader.js';
import type { JsonObject } from './qmp-message.js';

/** Errors that mean "QEMU is not listening (yet)": the socket file is missing or nobody accepts. */
export function isNotListening(error: unknown): boolean {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

/** One attempt to open the unix socket; rejects with the system error (see {@link isNotListening}) or on abort. */
export function openUnixSocket(path: string, signal?: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const socket = net.createConnection({ path });
    const fail = (error: unknown) => {
      socket.off('connect', onConnect);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(error);
    };
    const onAbort = () => fail(signal?.reason);
    const onConnect = () => {
      socket.off('error', fail);
      signal?.removeEventListener('abort', onAbort);
      resolve(socket);
    };
    socket.once('error', fail);
    socket.once('connect', onConnect);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface ConnectionHandlers {
  onLine(line: string): void;
  /** Called once, when the socket is closed for any reason; `error` is the socket or framing error, if any. */
  onClose(error: Error | undefined): void;
}

/**
 * One socket to QEMU: frames lines in, writes JSON lines out, logs every line of both directions
 * as a structured record (`{dir, line}` at debug level).
 */
export class QmpConnection {
  private readonly reader = new LineReader();
  private closed = false;
  private lastError: Error | undefined;
  readonly closedPromise: Promise<void>;

  constructor(
    private readonly socket: net.Socket,
    private readonly logger: Logger,
    handlers: ConnectionHandlers,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = this.reader.push(chunk);
      } catch (error) {
        this.destroy(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      for (const line of lines) {
        if (this.closed) return;
        this.logger.debug('qmp line', { dir: 'in', line });
        handlers.onLine(line);
      }
    });
    socket.on('error', (error) => {
      this.lastError ??= error;
    });
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.closed = true;
        if (this.reader.pending !== '') {
          this.logger.warn('qmp connection closed mid-line', { partial: this.reader.pending.slice(0, 200) });
        }
        handlers.onClose(this.lastError);
        resolve();
      });
    });
  }

  get isOpen(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  /** Write one message as a JSON line. Returns false if the socket is already gone. */
  write(message: JsonObject): boolean {
    if (!this.isOpen) return false;
    const line = JSON.stringify(message);
    this.logger.debug('qmp line', { dir: 'out', line });
    this.socket.write(`${line}\n`);
    return true;
  }

  /** Close the socket (idempotent); resolves once the close has been handled. */
  destroy(error?: Error): Promise<void> {
    if (error) this.lastError ??= error;
    this.socket.destroy();
    return this.closedPromise;
  }
}
