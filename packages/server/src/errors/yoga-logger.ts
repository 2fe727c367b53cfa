/**
 * Adapts core's Logger to yoga's. yoga logs every error its mask replaced at `error`
 * level; expected failures (a SlipwayError underneath) are routine and go to `debug`,
 * unexpected ones keep `error` with their stack.
 */
import { isSlipwayError, type Logger } from '@slipway/core';
import { isGraphQLError, rootCause } from './mask-error.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

export function yogaLogger(logger: Logger): Record<Level, (...args: unknown[]) => void> {
  const line =
    (level: Level) =>
    (...args: unknown[]) => {
      const error = args.find((a) => a instanceof Error);
      if (error === undefined) {
        logger[level](args.map(String).join(' '));
        return;
      }
      const cause = rootCause(error);
      if (isSlipwayError(cause)) {
        logger.debug('request failed', { code: cause.code, message: cause.message });
        return;
      }
      logger[level]('unexpected error', {
        path: isGraphQLError(error) ? error.path?.join('.') : undefined,
        error: cause instanceof Error ? (cause.stack ?? cause.message) : String(cause),
      });
    };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}
