import type { Logger } from '@slipway/core';
import type { QmpProtocolError } from './qmp-errors.js';
import type { QmpTimeouts } from './qmp-timeouts.js';

/** Synthetic event pushed when a handshake completes: `data.reconnect` says whether it is a reconnect. */
export const QMP_CONNECTED = 'QMP_CONNECTED';
/** Synthetic event pushed when a ready connection ends: `data.reason`, `data.sawShutdown`. */
export const QMP_DISCONNECTED = 'QMP_DISCONNECTED';

export type QmpClientState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'disconnected' | 'closed';

export interface QmpReconnectOptions {
  /** First delay after a lost connection; doubles per attempt. Default 50 ms. */
  initialDelayMs?: number;
  /** Cap on the delay. Default 2 s. */
  maxDelayMs?: number;
  /** Give up (state `disconnected`) after this many attempts. Default: never, until `close()`. */
  maxAttempts?: number;
}

export interface QmpClientOptions {
  /** The path given to QEMU as `-qmp unix:<path>,server=on,wait=off`. */
  socketPath: string;
  /** Gets every line in and out (`debug`, `{dir, line}`), state changes (`info`) and protocol trouble (`warn`). */
  logger?: Logger;
  timeouts?: Partial<QmpTimeouts>;
  /** Reconnect after the connection drops (QEMU restarted on the same path). Default on; `false` turns it off. */
  reconnect?: QmpReconnectOptions | false;
  /** Events kept for `waitForEvent({since})` and `eventsSince`. Default 1000. */
  backlogSize?: number;
  /** Called for garbage lines, id-less errors and other protocol trouble (after it is logged). */
  onProtocolError?: (error: QmpProtocolError) => void;
}

export interface QmpConnectOptions {
  signal?: AbortSignal;
  /** Default `timeouts.connectMs` (10 s). */
  timeoutMs?: number;
}
