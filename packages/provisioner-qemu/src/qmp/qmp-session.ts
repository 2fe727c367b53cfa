import type net from 'node:net';
import type { Logger } from '@slipway/core';
import type { QmpCall } from './qmp-call.js';
import { QmpDisconnectedError, QmpError, QmpProtocolError } from './qmp-errors.js';
import { parseQmpLine, type QmpEvent, type QmpGreeting, type QmpMessage } from './qmp-message.js';
import { QmpConnection } from './qmp-socket.js';

export interface SessionHooks {
  logger: Logger;
  onEvent(event: QmpEvent): void;
  onProtocolTrouble(reason: string, line: string): void;
  /** When a session that reached ready ends, after the commands sent on it have failed. */
  onClose(session: QmpSession, reason: string): void;
}

/**
 * One connection's protocol: the handshake (greeting → `qmp_capabilities` → ready) and the
 * commands written on it, matched to replies by id only. When the connection ends, every command
 * sent on it fails with QmpDisconnectedError (`sent: true`): none is left to hang.
 */
export class QmpSession {
  phase: 'greeting' | 'negotiating' | 'ready' | 'closed' = 'greeting';
  /** Whether QEMU sent SHUTDOWN on this connection: an EOF after it is an orderly exit. */
  sawShutdown = false;
  private readonly conn: QmpConnection;
  private readonly sent = new Map<string, QmpCall>();
  private readonly greeting: Promise<QmpGreeting>;
  private greeted!: (greeting: QmpGreeting) => void;
  private failHandshake!: (error: Error) => void;
  private closeReason: string | undefined;

  constructor(
    socket: net.Socket,
    private readonly hooks: SessionHooks,
  ) {
    this.greeting = new Promise<QmpGreeting>((resolve, reject) => {
      this.greeted = resolve;
      this.failHandshake = reject;
    });
    this.greeting.catch(() => {}); // rejected when the connection dies first, awaited or not
    this.conn = new QmpConnection(socket, hooks.logger, {
      onLine: (line) => this.onLine(line),
      onClose: (error) => this.onClose(error),
    });
  }

  /**
   * Wait for the greeting, then run `negotiate` (the `qmp_capabilities` call) on this connection.
   * Rejects with QmpProtocolError if QEMU refuses it; aborting `signal` fails it with `reason`.
   */
  async handshake(negotiate: () => QmpCall, signal: AbortSignal): Promise<QmpGreeting> {
    const onAbort = () => this.failHandshake(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const greeting = await this.greeting;
      this.phase = 'negotiating';
      const call = negotiate();
      this.send(call);
      await call.promise;
      this.phase = 'ready';
      return greeting;
    } catch (error) {
      await this.destroy();
      if (error instanceof QmpError) throw new QmpProtocolError(`QMP negotiation refused: ${error.message}`);
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Write the command and remember it for its reply; fails it at once if the connection is gone. */
  send(call: QmpCall): void {
    if (!this.conn.write(call.message())) {
      call.fail(new QmpDisconnectedError(call.command, 'the connection closed before the command was sent'));
      return;
    }
    call.sentOn = this;
    this.sent.set(call.id, call);
  }

  /** Drop a settled command, so a late reply to its id is recognised as late. */
  forget(id: string): void {
    this.sent.delete(id);
  }

  /** Close the connection; `reason` is what the failed commands and the disconnect event say. */
  destroy(reason?: string): Promise<void> {
    this.closeReason ??= reason;
    return this.conn.destroy();
  }

  private onLine(line: string): void {
    const message = parseQmpLine(line);
    switch (message.kind) {
      case 'greeting':
        if (this.phase === 'greeting') this.greeted(message.greeting);
        else this.hooks.onProtocolTrouble('a second greeting on one connection', line);
        return;
      case 'event':
        if (message.event.event === 'SHUTDOWN') this.sawShutdown = true;
        this.hooks.onEvent(message.event); // events before the greeting are kept too
        return;
      case 'return':
      case 'error':
        this.onReply(message, line);
        return;
      case 'garbage':
        this.hooks.onProtocolTrouble(message.reason, line);
    }
  }

  private onReply(message: Extract<QmpMessage, { kind: 'return' | 'error' }>, line: string): void {
    if (message.id === undefined) {
      // QEMU answers bytes it cannot parse with an error without id: it belongs to no command of ours.
      this.hooks.onProtocolTrouble('a reply without id (QEMU could not parse something it received)', line);
      return;
    }
    const call = typeof message.id === 'string' ? this.sent.get(message.id) : undefined;
    if (!call) {
      this.hooks.logger.warn('qmp reply for no pending command dropped (late after a time-out or abort)', { line });
      return;
    }
    if (message.kind === 'error') call.fail(new QmpError(message.errorClass, message.desc, call.command));
    else call.succeed(message.value);
  }

  private onClose(error: Error | undefined): void {
    const wasReady = this.phase === 'ready';
    this.phase = 'closed';
    const reason =
      this.closeReason ?? (error ? `connection error: ${error.message}` : 'QEMU closed the connection (EOF)');
    this.failHandshake(new QmpDisconnectedError(undefined, reason));
    for (const call of [...this.sent.values()]) call.fail(new QmpDisconnectedError(call.command, reason, true));
    if (wasReady) this.hooks.onClose(this, reason);
  }
}
