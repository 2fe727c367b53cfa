import type { Clock, Logger } from './provisioner/provisioner.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A tiny JSON-lines logger to stderr; embedders pass their own (pino fits the interface). */
export function consoleLogger(level: Level | 'silent' = 'info', bindings: Record<string, unknown> = {}): Logger {
  const min = level === 'silent' ? Number.POSITIVE_INFINITY : ORDER[level];
  const write = (lvl: Level) => (msg: string, data?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    process.stderr.write(
      `${JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...bindings, ...data })}\n`,
    );
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => consoleLogger(level, { ...bindings, ...more }),
  };
}

export const silentLogger: Logger = consoleLogger('silent');

export const systemClock: Clock = { now: () => new Date() };
