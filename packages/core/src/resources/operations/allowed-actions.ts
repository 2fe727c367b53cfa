/**
 * Which actions a resource allows now: one pure function of its status, its provisioner's
 * capabilities, the operation in flight, a pending resize and its devices. The request side
 * checks an action with the same rules (`checkAction`), so `allowedActions` never lists what
 * a request would refuse, and a refusal carries the right code: NOT_SUPPORTED (the
 * provisioner cannot), CONFLICT (another operation is in flight), INVALID_STATE (not now).
 */

import { SlipwayError } from '../../errors.js';
import { LIMITS } from '../../limits/limits.js';
import { RESOURCE_ACTIONS, type ResourceAction, type ResourceDevice } from '../../operation-domain.js';
import type { CapabilityName } from '../../provisioner/capabilities.js';
import { RELEASABLE } from '../release-flow.js';

export interface ActionContext {
  /** A ResourceStatus; a string so statuses added later fall through to "nothing but release". */
  readonly status: string;
  readonly capabilities: readonly CapabilityName[];
  readonly operationInFlight: string | null;
  readonly pendingResize: boolean;
  readonly devices: readonly Pick<ResourceDevice, 'state'>[];
}

/** The provisioner capability each action needs (none for a release). */
export const ACTION_CAPABILITY: Record<ResourceAction, CapabilityName | null> = {
  START: 'start',
  STOP: 'stop',
  RESTART: 'restart',
  RESET_HARD: 'reset',
  RESET_SOFT: 'reset',
  RESIZE: 'reconfigure',
  REVERT_RESIZE: 'reconfigure',
  ATTACH_DEVICE: 'attach',
  DETACH_DEVICE: 'detach',
  RELEASE: null,
};

const RUNNING = ['RUNNING'];
const LIVE = ['RUNNING', 'STOPPED'];

/** Why `action` is refused now: INVALID_STATE's message, or null when the state allows it. */
function stateProblem(action: ResourceAction, c: ActionContext): string | null {
  const needs = (statuses: readonly string[]) =>
    statuses.includes(c.status) ? null : `${action} needs the resource ${statuses.join(' or ')}, it is ${c.status}`;
  switch (action) {
    case 'START':
      return needs(['STOPPED']);
    case 'STOP':
    case 'RESTART':
    case 'RESET_HARD':
    case 'RESET_SOFT':
      return needs(RUNNING);
    case 'RESIZE':
      return needs(LIVE) ?? (c.pendingResize ? 'a resize is pending: revert it first' : null);
    case 'REVERT_RESIZE':
      return needs(LIVE) ?? (c.pendingResize ? null : 'no resize is pending');
    case 'ATTACH_DEVICE':
      return (
        needs(RUNNING) ??
        (c.devices.length >= LIMITS.devices.maxCount ? `at most ${LIMITS.devices.maxCount} devices` : null)
      );
    case 'DETACH_DEVICE':
      return needs(RUNNING) ?? (c.devices.some((d) => d.state === 'ATTACHED') ? null : 'no device is attached');
    case 'RELEASE':
      return (RELEASABLE as readonly string[]).includes(c.status) ? null : `the resource is ${c.status}`;
  }
}

/** The typed refusal of `action` in context `c`, or null when it is allowed. */
export function checkAction(
  action: ResourceAction,
  c: ActionContext,
  provisioner = 'the provisioner',
): SlipwayError | null {
  const capability = ACTION_CAPABILITY[action];
  if (capability && !c.capabilities.includes(capability)) {
    return new SlipwayError('NOT_SUPPORTED', `provisioner ${provisioner} does not support ${capability}`, {
      details: { provisioner, capability, action },
    });
  }
  // A release is never blocked by an operation: nobody must be made to keep paying.
  if (action !== 'RELEASE' && c.operationInFlight !== null) {
    return new SlipwayError('CONFLICT', `${c.operationInFlight} is in flight on this resource; retry when it ends`, {
      details: { operation: c.operationInFlight, action },
    });
  }
  const problem = stateProblem(action, c);
  return problem === null
    ? null
    : new SlipwayError('INVALID_STATE', `${action}: ${problem}`, { details: { status: c.status, action } });
}

/** Every action `checkAction` allows in context `c`, in RESOURCE_ACTIONS order. */
export function allowedActions(c: ActionContext): ResourceAction[] {
  return RESOURCE_ACTIONS.filter((action) => checkAction(action, c) === null);
}
