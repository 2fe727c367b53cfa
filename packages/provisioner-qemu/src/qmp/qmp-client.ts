import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '@slipway/core';
import { type BacklogEntry, EventBacklog, type EventPredicate, type WaitForEventOptions } from './event-backlog.js';
import { QmpCall, type QmpCommandOptions } from './qmp-call.js';
import {
  QMP_CONNECTED,
  QMP_DISCONNECTED,
  type QmpClientOptions,
  type QmpClientState,
  type QmpConnectOptions,
  type QmpReconnectOptions,
} from './qmp-client-options.js';
import {
  QmpAbortedError,
  QmpClientFailure,
  QmpDisconnectedError,
  QmpProtocolError,
  QmpTimeoutError,
} from './qmp-errors.js';
import { type JsonObject, type JsonValue, type QmpEvent, type QmpGreeting, qmpTimestamp } from './qmp-message.js';
import { QmpSession } from './qmp-session.js';
import { isNotListening, openUnixSocket } from './qmp-socket.js';
import { commandTimeoutMs, type QmpTimeouts, resolveTimeouts } from './qmp-timeouts.js';

const CONNECT_RETRY_MS = 20;
const noop = () => {};
const silent: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => silent };

/**
 * A QMP client for one QEMU monitor socket (see docs/qmp-client.md).
 *
 * Written here rather than taken from npm (checked December 2026): `qemu-qmp` is one file with an
 * unpinned `split` dependency; `node-qemu` has two releases from one author. Both match replies to
 * the head of a FIFO queue instead of by id, and neither has per-command time-outs, an event
 * backlog or typed errors — which is what this client is for.
 */
export class QmpClient {
  private currentState: QmpClientState = 'idle';
  private session: QmpSession | undefined;
  private lastGreeting: QmpGreeting | undefined;
  private readonly backlog: EventBacklog;
  private readonly waiting: QmpCall[] = [];
  private nextId = 0;
  private readyOnce = false;
  private readonly closing = new AbortController();
  private readonly timeouts: QmpTimeouts;
  private readonly logger: Logger;

  constructor(private readonly options: QmpClientOptions) {
    this.timeouts = resolveTimeouts(options.timeouts);
    this.logger = (options.logger ?? silent).child({ qmpSocket: options.socketPath });
    this.backlog = new EventBacklog(options.backlogSize, (error) =>
      this.logger.error('qmp event listener threw', { error: String(error) }),
    );
  }

  get state(): QmpClientState {
    return this.currentState;
  }

  /** The greeting of the current (or last) connection. */
  get greeting(): QmpGreeting | undefined {
    return this.lastGreeting;
  }

  /**
   * Open the socket (retrying while QEMU has not created it yet), wait for the greeting, send
   * `qmp_capabilities`. Resolves when commands can run. Fails with QmpTimeoutError, QmpAbortedError,
   * QmpProtocolError (bad greeting, refused negotiation) or QmpDisconnectedError (client closed).
   */
  async connect(options: QmpConnectOptions = {}): Promise<QmpGreeting> {
    if (this.currentState === 'closed') throw new QmpDisconnectedError('connect', 'the client is closed');
    if (this.currentState !== 'idle' && this.currentState !== 'disconnected') {
      throw new Error(`QmpClient.connect() called while ${this.currentState}`);
    }
    this.setState('connecting');
    const timeoutMs = options.timeoutMs ?? this.timeouts.connectMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([this.closing.signal, timeout, ...optional(options.signal)]);
    let lastRetried: unknown;
    try {
      for (;;) {
        try {
          return await this.establish(signal);
        } catch (error) {
          if (signal.aborted || !(isNotListening(error) || error instanceof QmpDisconnectedError)) throw error;
          if (lastRetried === undefined)
            this.logger.debug('qmp socket not there yet, retrying', { error: String(error) });
          lastRetried = error;
          await delay(CONNECT_RETRY_MS, undefined, { signal });
        }
      }
    } catch (error) {
      const failure = this.connectFailure(error, timeout.aborted, lastRetried, options.signal, timeoutMs);
      if (this.stateIs('connecting')) {
        this.setState('disconnected');
        this.failWaiting(`connect failed: ${failure.message}`);
      }
      throw failure;
    }
  }

  /**
   * Run a command. Resolves with its `return` value; rejects with QmpError (QEMU's error reply),
   * QmpTimeoutError, QmpAbortedError or QmpDisconnectedError. While the client is connecting or
   * reconnecting the command waits (its time-out running); when idle, disconnected or closed it
   * fails at once.
   */
  execute(command: string, args?: JsonObject, options: QmpCommandOptions = {}): Promise<JsonValue> {
    const state = this.currentState;
    if (state === 'idle' || state === 'disconnected' || state === 'closed') {
      const reason = state === 'closed' ? 'the client is closed' : 'not connected (call connect() first)';
      return Promise.reject(new QmpDisconnectedError(command, reason));
    }
    return this.call(command, args, options);
  }

  /** `query-status`, checked: e.g. `{status: 'prelaunch' | 'running' | 'paused' | …, running}`. */
  async queryStatus(options?: QmpCommandOptions): Promise<{ status: string; running: boolean }> {
    const value = await this.execute('query-status', undefined, options);
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof value.status !== 'string') {
      throw new QmpProtocolError(`query-status returned ${JSON.stringify(value)}`);
    }
    return { status: value.status, running: value.running === true };
  }

  /** The sequence number of the newest event so far. Take it *before* sending a command whose event you await. */
  marker(): number {
    return this.backlog.marker();
  }

  /** The first event `name` matching `predicate` after `options.since` (buffered or future). See WaitForEventOptions. */
  waitForEvent(name: string, predicate?: EventPredicate, options?: WaitForEventOptions): Promise<QmpEvent> {
    return this.backlog.waitFor(name, predicate, options);
  }

  /** Buffered events after `marker`, oldest first (QmpBacklogOverflowError if some were dropped). */
  eventsSince(marker: number): BacklogEntry[] {
    return this.backlog.since(marker);
  }

  /** Listen to every event, QEMU's and the synthetic ones; returns the unsubscribe function. */
  onEvent(listener: (event: QmpEvent, seq: number) => void): () => void {
    return this.backlog.subscribe((entry) => listener(entry.event, entry.seq));
  }

  /** Close for good: pending and waiting commands fail with QmpDisconnectedError, reconnecting stops. */
  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.closing.abort(new QmpDisconnectedError(undefined, 'the client is closed'));
    await this.session?.destroy('the client is closed');
    this.setState('closed');
    this.failWaiting('the client is closed');
    this.backlog.failWaiters(new QmpDisconnectedError(undefined, 'the client is closed'), true);
  }

  private call(command: string, args: JsonObject | undefined, options: QmpCommandOptions): Promise<JsonValue> {
    const call = this.newCall(command, args, options);
    if (call.isSettled) return call.promise;
    if (this.currentState === 'ready' && this.session) this.session.send(call);
    else this.waiting.push(call);
    return call.promise;
  }

  private newCall(command: string, args: JsonObject | undefined, options: QmpCommandOptions): QmpCall {
    const timeoutMs = options.timeoutMs ?? commandTimeoutMs(this.timeouts, command);
    return new QmpCall(`slipway-${++this.nextId}`, command, args, timeoutMs, options, (settled) => {
      const index = this.waiting.indexOf(settled);
      if (index >= 0) this.waiting.splice(index, 1);
    });
  }

  /** One attempt: open the socket, greeting, `qmp_capabilities`. Leaves the client ready or the socket closed. */
  private async establish(signal: AbortSignal): Promise<QmpGreeting> {
    const socket = await openUnixSocket(this.options.socketPath, signal);
    const session = new QmpSession(socket, {
      logger: this.logger,
      onEvent: (event) => this.backlog.push(event),
      onProtocolTrouble: (reason, line) => this.protocolTrouble(reason, line),
      onClose: (closed, reason) => this.onSessionClose(closed, reason),
    });
    this.session = session;
    const negotiate = () => this.newCall('qmp_capabilities', undefined, { signal, timeoutMs: this.timeouts.connectMs });
    const greeting = await session.handshake(negotiate, signal);
    this.lastGreeting = greeting;
    const { major, minor, micro } = greeting.version.qemu;
    this.backlog.push(synthetic(QMP_CONNECTED, { reconnect: this.readyOnce, qemu: `${major}.${minor}.${micro}` }));
    this.readyOnce = true;
    this.setState('ready');
    for (const call of this.waiting.splice(0)) session.send(call);
    return greeting;
  }

  private onSessionClose(session: QmpSession, reason: string): void {
    if (session !== this.session) return;
    this.session = undefined;
    const closing = this.closing.signal.aborted;
    this.logger.info('qmp disconnected', { reason, sawShutdown: session.sawShutdown });
    this.backlog.push(synthetic(QMP_DISCONNECTED, { reason, sawShutdown: session.sawShutdown }));
    this.backlog.failWaiters(new QmpDisconnectedError(undefined, reason), closing);
    if (closing) return;
    if (this.options.reconnect === false) {
      this.setState('disconnected');
      this.failWaiting(reason);
      return;
    }
    this.setState('reconnecting');
    void this.reconnect(this.options.reconnect ?? {});
  }

  private async reconnect(policy: QmpReconnectOptions): Promise<void> {
    const { initialDelayMs = 50, maxDelayMs = 2_000, maxAttempts = Number.POSITIVE_INFINITY } = policy;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        await delay(Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1)), undefined, {
          signal: this.closing.signal,
        });
        await this.establish(AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.timeouts.connectMs)]));
        return;
      } catch (error) {
        if (this.closing.signal.aborted) return;
        this.logger.debug('qmp reconnect attempt failed', { attempt, error: String(error) });
      }
    }
    this.logger.warn('qmp gave up reconnecting', { attempts: maxAttempts });
    this.setState('disconnected');
    this.failWaiting(`gave up reconnecting after ${maxAttempts} attempts`);
  }

  private connectFailure(
    error: unknown,
    timedOut: boolean,
    lastRetried: unknown,
    callerSignal: AbortSignal | undefined,
    timeoutMs: number,
  ): QmpClientFailure {
    if (this.closing.signal.aborted) return new QmpDisconnectedError('connect', 'the client is closed');
    if (callerSignal?.aborted) return new QmpAbortedError('connect', false, callerSignal.reason);
    if (timedOut) {
      const last = lastRetried === undefined ? '' : ` (last: ${String(lastRetried)})`;
      const message = `QMP connect to ${this.options.socketPath} did not complete within ${timeoutMs} ms${last}`;
      return new QmpTimeoutError('connect', timeoutMs, false, message);
    }
    if (error instanceof QmpClientFailure) return error;
    return new QmpDisconnectedError('connect', `cannot open ${this.options.socketPath}: ${String(error)}`);
  }

  private failWaiting(reason: string): void {
    for (const call of this.waiting.splice(0)) call.fail(new QmpDisconnectedError(call.command, reason));
  }

  private protocolTrouble(reason: string, line: string): void {
    this.logger.warn('qmp protocol trouble', { reason, line });
    this.options.onProtocolError?.(new QmpProtocolError(reason, line));
  }

  /** A method, not a comparison, because TypeScript keeps the narrowing from before an `await`. */
  private stateIs(state: QmpClientState): boolean {
    return this.currentState === state;
  }

  private setState(state: QmpClientState): void {
    if (state === this.currentState) return;
    this.logger.info('qmp state', { from: this.currentState, to: state });
    this.currentState = state;
  }
}

function optional(signal: AbortSignal | undefined): AbortSignal[] {
  return signal ? [signal] : [];
}

function synthetic(event: string, data: JsonObject): QmpEvent {
  return { event, data, timestamp: qmpTimestamp(), synthetic: true };
}
