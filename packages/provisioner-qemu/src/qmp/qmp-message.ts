/** The shapes of QMP messages (QEMU's docs/interop/qmp-spec) and one parser that sorts a line into them. */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface QmpVersion {
  qemu: { major: number; minor: number; micro: number };
  package: string;
}

/** The `{"QMP": …}` banner QEMU sends on every new connection, before anything else of ours. */
export interface QmpGreeting {
  version: QmpVersion;
  /** Capabilities QEMU offers, e.g. `oob`. The client enables none. */
  capabilities: string[];
}

export interface QmpEvent {
  event: string;
  data: JsonObject;
  /** QEMU's wall-clock time of the event; synthetic events carry the client's time. */
  timestamp: { seconds: number; microseconds: number };
  /** True for events the client makes up (QMP_CONNECTED, QMP_DISCONNECTED), absent for QEMU's. */
  synthetic?: true;
}

export type QmpMessage =
  | { kind: 'greeting'; greeting: QmpGreeting }
  | { kind: 'return'; id: JsonValue | undefined; value: JsonValue }
  | { kind: 'error'; id: JsonValue | undefined; errorClass: string; desc: string }
  | { kind: 'event'; event: QmpEvent }
  | { kind: 'garbage'; reason: string };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(value: JsonValue | undefined): number {
  return typeof value === 'number' ? value : 0;
}

function toGreeting(banner: JsonObject): QmpGreeting {
  const version = isObject(banner.version) ? banner.version : {};
  const qemu = isObject(version.qemu) ? version.qemu : {};
  const caps = Array.isArray(banner.capabilities) ? banner.capabilities : [];
  return {
    version: {
      qemu: { major: num(qemu.major), minor: num(qemu.minor), micro: num(qemu.micro) },
      package: typeof version.package === 'string' ? version.package : '',
    },
    capabilities: caps.filter((c): c is string => typeof c === 'string'),
  };
}

/** Sort one line from QEMU into a message; anything unexpected is `garbage` with the reason. */
export function parseQmpLine(line: string): QmpMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { kind: 'garbage', reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!isObject(value)) return { kind: 'garbage', reason: 'not a JSON object' };
  if (isObject(value.QMP)) return { kind: 'greeting', greeting: toGreeting(value.QMP) };
  if ('return' in value) return { kind: 'return', id: value.id, value: value.return ?? null };
  if (isObject(value.error)) {
    const { class: errorClass, desc } = value.error;
    return {
      kind: 'error',
      id: value.id,
      errorClass: typeof errorClass === 'string' ? errorClass : 'UnknownError',
      desc: typeof desc === 'string' ? desc : JSON.stringify(value.error),
    };
  }
  if (typeof value.event === 'string') {
    const ts = isObject(value.timestamp) ? value.timestamp : {};
    return {
      kind: 'event',
      event: {
        event: value.event,
        data: isObject(value.data) ? value.data : {},
        timestamp: { seconds: num(ts.seconds), microseconds: num(ts.microseconds) },
      },
    };
  }
  return { kind: 'garbage', reason: 'a JSON object of no QMP shape' };
}

/** A timestamp in QMP's form for events the client makes up itself. */
export function qmpTimestamp(now = Date.now()): QmpEvent['timestamp'] {
  return { seconds: Math.floor(now / 1000), microseconds: (now % 1000) * 1000 };
}
