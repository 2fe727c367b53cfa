import { QmpAbortedError, QmpTimeoutError } from './qmp-errors.js';
import type { JsonObject, JsonValue } from './qmp-message.js';
import type { QmpSession } from './qmp-session.js';

export interface QmpCommandOptions {
  /** Overrides the command's default time-out (see QmpTimeouts). Counts from the call, waiting for a connection included. */
  timeoutMs?: number;
  /** Aborting fails the call with QmpAbortedError; a reply that comes later is dropped. */
  signal?: AbortSignal;
}

/**
 * One command from the call to its outcome. It settles exactly once: with the reply, or with a
 * time-out, an abort or a disconnect — whichever comes first — and then calls `onSettled` so the
 * client forgets it (a later reply to its id is then dropped, never given to another command).
 */
export class QmpCall {
  /** The session it was written to; undefined while it waits for one. */
  sentOn: QmpSession | undefined;
  readonly promise: Promise<JsonValue>;
  private settled = false;
  private resolveFn!: (value: JsonValue) => void;
  private rejectFn!: (error: Error) => void;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = () =>
    this.fail(new QmpAbortedError(this.command, this.sentOn !== undefined, this.options.signal?.reason));

  constructor(
    readonly id: string,
    readonly command: string,
    readonly args: JsonObject | undefined,
    readonly timeoutMs: number,
    private readonly options: QmpCommandOptions,
    private readonly onSettled: (call: QmpCall) => void,
  ) {
    this.promise = new Promise<JsonValue>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    this.timer = setTimeout(
      () => this.fail(new QmpTimeoutError(command, timeoutMs, this.sentOn !== undefined)),
      timeoutMs,
    );
    if (options.signal?.aborted) this.onAbort();
    else options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /** The line to send: `{"execute", "arguments"?, "id"}`. */
  message(): JsonObject {
    return this.args === undefined
      ? { execute: this.command, id: this.id }
      : { execute: this.command, arguments: this.args, id: this.id };
  }

  succeed(value: JsonValue): void {
    if (this.finish()) this.resolveFn(value);
  }

  fail(error: Error): void {
    if (this.finish()) this.rejectFn(error);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.sentOn?.forget(this.id);
    this.onSettled(this);
    return true;
  }
}
