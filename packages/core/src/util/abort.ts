import { SlipwayError } from '../errors.js';

/**
 * Run `fn` with a signal that aborts when `parent` aborts or after `timeoutMs`.
 * The returned promise settles as soon as the signal aborts, even if `fn` ignores it, so a
 * hung plugin can never hang the core.
 */
export async function runAbortable<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  opts: { timeoutMs: number; signal?: AbortSignal; what: string },
): Promise<T> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted) throw aborted(opts.what, opts.signal.reason);
  opts.signal?.addEventListener('abort', onParentAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new SlipwayError('PROVISIONER_TIMEOUT', `${opts.what} timed out after ${opts.timeoutMs} ms`));
  }, opts.timeoutMs);
  try {
    return await new Promise<T>((resolve, reject) => {
      controller.signal.addEventListener(
        'abort',
        () =>
          reject(
            timedOut
              ? new SlipwayError('PROVISIONER_TIMEOUT', `${opts.what} timed out after ${opts.timeoutMs} ms`)
              : aborted(opts.what, controller.signal.reason),
          ),
        { once: true },
      );
      // Through a promise: a plugin member that throws synchronously or returns no promise is still settled here.
      Promise.resolve()
        .then(() => fn(controller.signal))
        .then(resolve, reject);
    });
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onParentAbort);
  }
}

function aborted(what: string, reason: unknown): SlipwayError {
  return new SlipwayError('PROVISIONER_ABORTED', `${what} was aborted`, { cause: reason });
}

/** Resolve after `ms`, or reject when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
