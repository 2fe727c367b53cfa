/**
 * What the `operation` and `last_operation` columns hold: the operation in flight with what
 * its job needs, and how the last one ended. Dates are ISO strings inside the JSON.
 */
import type { ResourceSpec } from '../../domain.js';
import type {
  OperationAction,
  OperationOutcome,
  PowerAction,
  ResourceDevice,
  ResourceOperation,
} from '../../operation-domain.js';

interface OperationBase {
  readonly id: string;
  readonly requestedBy: string;
  readonly startedAt: string;
  /**
   * The provisioner may have acted: committed on its own before the first call of a resize or
   * hotplug, so a failure found later (a dead job, the sweeper) does not undo in the database
   * what may have happened to the machine.
   */
  readonly reached?: boolean;
  /** Provisioner calls begun (each counted, committed, before it starts; across runners). */
  readonly calls?: number;
  /** A boot reported the size this in-flight resize asks for: its commit applies it at once. */
  readonly booted?: boolean;
}

export type OperationRecord = OperationBase &
  (
    | { readonly action: PowerAction }
    | {
        readonly action: 'RESIZE';
        /** The size asked for (the current spec with vcpu/memoryMb changed). */
        readonly spec: ResourceSpec;
        /** Its price minus the current price, in credits. */
        readonly delta: number;
        /** The hold of `delta` when positive. */
        readonly reservationId: string | null;
      }
    | { readonly action: 'REVERT_RESIZE' }
    | { readonly action: 'ATTACH_DEVICE'; readonly device: ResourceDevice }
    | { readonly action: 'DETACH_DEVICE'; readonly deviceId: string }
  );

export interface OutcomeRecord {
  readonly id: string;
  readonly action: OperationAction;
  readonly state: 'SUCCEEDED' | 'FAILED';
  readonly error: string | null;
  readonly code: string | null;
  readonly finishedAt: string;
}

export const toOperation = (r: OperationRecord): ResourceOperation => ({
  id: r.id,
  action: r.action,
  requestedBy: r.requestedBy,
  startedAt: new Date(r.startedAt),
});

export const toOutcome = (r: OutcomeRecord): OperationOutcome => ({ ...r, finishedAt: new Date(r.finishedAt) });
