/**
 * A closed-loop load generator: `concurrency` async workers each run `op` back to back.
 * Ops that complete inside the measured window (after the warm-up) are counted and their
 * latencies kept; throughput is completions ÷ window length.
 */
import { performance } from 'node:perf_hooks';

export interface LoadResult {
  /** Operations completed inside the measured window. */
  ops: number;
  /** Length of the measured window in seconds (shorter than asked if the work ran out). */
  seconds: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** True when `op` ran out of work before the window ended. */
  exhausted: boolean;
}

export interface LoadOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** One operation; resolve to `false` when there is no more work for this worker. */
  op: (worker: number) => Promise<undefined | false>;
}

/** The raw measurements of one run, to merge several runs before summarising. */
export interface LoadSamples {
  latenciesMs: number[];
  windowMs: number;
  exhausted: boolean;
}

export async function runClosedLoop(opts: LoadOptions): Promise<LoadResult> {
  return summarize([await sampleClosedLoop(opts)]);
}

export async function sampleClosedLoop(opts: LoadOptions): Promise<LoadSamples> {
  const start = performance.now();
  const windowStart = start + opts.warmupMs;
  const windowEnd = windowStart + opts.durationMs;
  const latencies: number[] = [];
  let lastCompletion = windowStart;
  let exhausted = false;
  let failure: { error: unknown } | undefined;

  const worker = async (index: number) => {
    while (!failure && !exhausted) {
      const t0 = performance.now();
      if (t0 >= windowEnd) return;
      let outcome: undefined | false;
      try {
        outcome = await opts.op(index);
      } catch (error) {
        failure ??= { error };
        return;
      }
      if (outcome === false) {
        exhausted = true;
        return;
      }
      const t1 = performance.now();
      if (t1 >= windowStart && t1 <= windowEnd) {
        latencies.push(t1 - t0);
        lastCompletion = t1;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => worker(i)));
  if (failure) throw failure.error;
  const windowMs = exhausted ? Math.max(1, lastCompletion - windowStart) : opts.durationMs;
  return { latenciesMs: latencies, windowMs, exhausted };
}

/** Throughput over the summed windows; percentiles over all latencies. */
export function summarize(runs: readonly LoadSamples[]): LoadResult {
  const windowMs = runs.reduce((sum, r) => sum + r.windowMs, 0);
  const sorted = Float64Array.from(runs.flatMap((r) => r.latenciesMs)).sort();
  return {
    ops: sorted.length,
    seconds: windowMs / 1000,
    opsPerSecond: windowMs > 0 ? sorted.length / (windowMs / 1000) : Number.NaN,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    exhausted: runs.some((r) => r.exhausted),
  };
}

/** Nearest-rank quantile of an ascending array; NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}
