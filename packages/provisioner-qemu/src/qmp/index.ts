export {
  type BacklogEntry,
  DEFAULT_BACKLOG_SIZE,
  DEFAULT_EVENT_TIMEOUT_MS,
  type EventPredicate,
  type WaitForEventOptions,
} from './event-backlog.js';
export { DEFAULT_MAX_LINE_LENGTH, LineReader, LineTooLongError } from './line-reader.js';
export type { QmpCommandOptions } from './qmp-call.js';
export { QmpClient } from './qmp-client.js';
export {
  QMP_CONNECTED,
  QMP_DISCONNECTED,
  type QmpClientOptions,
  type QmpClientState,
  type QmpConnectOptions,
  type QmpReconnectOptions,
} from './qmp-client-options.js';
export {
  QmpAbortedError,
  QmpBacklogOverflowError,
  QmpClientFailure,
  QmpDisconnectedError,
  QmpError,
  QmpProtocolError,
  QmpTimeoutError,
} from './qmp-errors.js';
export type { JsonObject, JsonValue, QmpEvent, QmpGreeting, QmpVersion } from './qmp-message.js';
export { commandTimeoutMs, DEFAULT_QMP_TIMEOUTS, DEFAULT_SLOW_COMMANDS, type QmpTimeouts } from './qmp-timeouts.js';
