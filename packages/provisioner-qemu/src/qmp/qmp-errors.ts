/**
 * Every way a QMP call can fail, one class each, so callers branch with `instanceof` instead of
 * parsing messages. All extend {@link QmpClientFailure}.
 */

/** Common base of the QMP client's errors. */
export class QmpClientFailure extends Error {
  override readonly name: string = 'QmpClientFailure';
}

/**
 * QEMU answered the command with `{"error": {"class", "desc"}}`. Branch on `class` first
 * (`GenericError`, `CommandNotFound`, `DeviceNotFound`, …), then on `desc`
 * (e.g. "is in use", "already in the process of unplug").
 */
export class QmpError extends QmpClientFailure {
  override readonly name = 'QmpError';
  /** QEMU's error class. */
  readonly class: string;

  constructor(
    errorClass: string,
    readonly desc: string,
    readonly command: string,
  ) {
    super(`QMP ${command} failed: ${errorClass}: ${desc}`);
    this.class = errorClass;
  }
}

/**
 * No reply within the command's time-out. `sent` says whether the command reached the socket: if
 * it did, QEMU may still carry it out; its late reply is dropped.
 */
export class QmpTimeoutError extends QmpClientFailure {
  override readonly name = 'QmpTimeoutError';
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
    readonly sent: boolean,
    message = `QMP ${command} got no reply within ${timeoutMs} ms${sent ? '' : ' (never sent: not connected)'}`,
  ) {
    super(message);
  }

  /** A waitForEvent that saw no matching event in time (`command` is `event <NAME>`). */
  static forEvent(event: string, timeoutMs: number): QmpTimeoutError {
    return new QmpTimeoutError(
      `event ${event}`,
      timeoutMs,
      false,
      `QMP event ${event} did not come within ${timeoutMs} ms`,
    );
  }
}

/** The caller's AbortSignal fired. `sent` as for {@link QmpTimeoutError}; `cause` is the signal's reason. */
export class QmpAbortedError extends QmpClientFailure {
  override readonly name = 'QmpAbortedError';
  constructor(
    readonly command: string,
    readonly sent: boolean,
    reason: unknown,
  ) {
    super(`QMP ${command} was aborted${sent ? ' after it was sent' : ''}`, { cause: reason });
  }
}

/**
 * The connection is gone (EOF, socket error, `close()`), or there is none. A command that was
 * already sent fails with this (`sent: true`): whether QEMU ran it is unknown.
 */
export class QmpDisconnectedError extends QmpClientFailure {
  override readonly name = 'QmpDisconnectedError';
  constructor(
    readonly command: string | undefined,
    readonly reason: string,
    readonly sent = false,
  ) {
    super(command ? `QMP ${command}: ${reason}` : `QMP: ${reason}`);
  }
}

/**
 * The peer broke the protocol: a line that is not JSON, a message of no known shape, an id-less
 * error (QEMU's answer to bytes it could not parse), a bad greeting or a refused handshake.
 */
export class QmpProtocolError extends QmpClientFailure {
  override readonly name = 'QmpProtocolError';
  constructor(
    message: string,
    readonly line?: string,
  ) {
    super(message);
  }
}

/** A waitForEvent `since` marker older than the backlog holds: events may have been missed. */
export class QmpBacklogOverflowError extends QmpClientFailure {
  override readonly name = 'QmpBacklogOverflowError';
  constructor(
    readonly since: number,
    readonly oldestKept: number,
  ) {
    super(`QMP event backlog no longer holds events after #${since} (oldest kept: #${oldestKept})`);
  }
}
