/**
 * Named points in the create, release and operation paths where a crash test can kill the process
 * (the server sets a hook from SLIPWAY_FAULT_KILL_AT). With no hook installed a fault point
 * costs one function call.
 */
export const FAULT_POINTS = [
  /** The create transaction (hold + resource + job) committed; the job has not run. */
  'create.after-reserve',
  /** The provisioner is working on the allocation (the demo: machine built, reply not sent). */
  'allocate.during',
  /** The provisioner returned the allocation; the hold is not committed yet. */
  'allocate.before-commit',
  /** The release was recorded (RELEASING + job); the provisioner has not been called. */
  'release.after-claim',
  /** The provisioner is releasing (the demo: machine gone, reply not sent). */
  'release.during',
  /** An operation's provisioner call returned (a reconfigure done); its outcome is not stored yet. */
  'operation.before-commit',
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

let hook: ((point: FaultPoint) => void) | undefined;

export function setFaultHook(fn: ((point: FaultPoint) => void) | undefined): void {
  hook = fn;
}

export function faultPoint(point: FaultPoint): void {
  hook?.(point);
}
