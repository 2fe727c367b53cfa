import type { Logger } from '@slipway/core';

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  data: Record<string, unknown>;
}

/** A Logger that keeps its records, with bindings merged in, for assertions. */
export function memoryLogger(
  records: LogRecord[] = [],
  bindings: Record<string, unknown> = {},
): Logger & {
  records: LogRecord[];
} {
  const at = (level: LogRecord['level']) => (msg: string, data?: Record<string, unknown>) => {
    records.push({ level, msg, data: { ...bindings, ...data } });
  };
  return {
    records,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => memoryLogger(records, { ...bindings, ...more }),
  };
}
