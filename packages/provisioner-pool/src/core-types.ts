/**
 * Core contract types that `@slipway/core` does not export by name yet. Derived from the
 * exported ones, so they stay in step with the core; drop them once the core exports them.
 */
import type { PoolRefresh, ProvisionContext } from '@slipway/core';

export type ProvisionerStore = ProvisionContext['store'];
export type JobQueue = ProvisionContext['jobs'];
export type JobRequest = Parameters<JobQueue['enqueue']>[0];
export type PoolRefreshResult = Awaited<ReturnType<PoolRefresh['refresh']>>;

export interface StoreEntry<T> {
  readonly key: string;
  readonly value: T;
  readonly version: number;
}

export type JobHandler = (payload: Record<string, unknown>, ctx: ProvisionContext) => Promise<void>;

/** The core's `JobHandlers` capability. */
export interface JobHandlers {
  readonly jobHandlers: Readonly<Record<string, JobHandler>>;
}
