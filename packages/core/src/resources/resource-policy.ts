import { LIMITS } from '../limits/limits.js';

export interface ResourcePolicy {
  /** How long a hold lives without renewal before the sweeper reconciles it (ms). Default 15 min. */
  holdTtlMs: number;
  /**
   * The longest an allocation may hold credits, from its creation (at least `holdTtlMs`): a hold
   * is renewed while its job runs or waits to be taken over, but never past this; then the hold
   * sweeper gives the allocation up (FAILED, refunded) whatever its job's state. Default 2 h.
   */
  allocationDeadlineMs: number;
  /** Refund the hold when an allocation fails. Default true. */
  refundOnFailure: boolean;
  /** Largest metadata document, in bytes of JSON. Default 64 KiB. */
  maxMetadataBytes: number;
  /** Whether create/release wait for their job by default. Default true. */
  wait: boolean;
  /** Longest a waiting create/release waits before answering with the resource as it is (ms). Default 60 s. */
  waitMs: number;
  /** Attempts of an allocate job on transient errors (time-outs, retryable errors). Default 3. */
  allocateAttempts: number;
  /** Attempts of an operation job (power, resize, hotplug) on transient errors. Default 3. */
  operationAttempts: number;
  /** Failed attempts of a release/cleanup job before a critical event (it keeps retrying). Default 10. */
  releaseAttempts: number;
  /** How long finished (`done`) jobs are kept before the sweeper deletes them (ms). Default 7 days. */
  keepDoneJobsMs: number;
}

export const DEFAULT_RESOURCE_POLICY: ResourcePolicy = {
  holdTtlMs: 15 * 60_000,
  allocationDeadlineMs: 2 * 3_600_000,
  refundOnFailure: true,
  maxMetadataBytes: LIMITS.metadata.maxBytes,
  wait: true,
  waitMs: 60_000,
  allocateAttempts: 3,
  operationAttempts: 3,
  releaseAttempts: 10,
  keepDoneJobsMs: 7 * 24 * 3_600_000,
};
