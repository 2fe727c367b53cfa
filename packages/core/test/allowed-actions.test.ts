/** allowedActions is a pure function of (status, capabilities, operation, pending resize, devices). */
import { describe, expect, it } from 'vitest';
import {
  type ActionContext,
  allowedActions,
  CAPABILITY_NAMES,
  checkAction,
  LIMITS,
  RESOURCE_ACTIONS,
  RESOURCE_STATUSES,
} from '../src/index.js';

const ALL = [...CAPABILITY_NAMES];
const ctx = (over: Partial<ActionContext> = {}): ActionContext => ({
  status: 'RUNNING',
  capabilities: ALL,
  operationInFlight: null,
  pendingResize: false,
  devices: [],
  ...over,
});
const attached = [{ state: 'ATTACHED' as const }];

describe('allowedActions', () => {
  it.each<[string, Partial<ActionContext>, string[]]>([
    [
      'running, every capability, a device',
      { devices: attached },
      ['STOP', 'RESTART', 'RESET_HARD', 'RESET_SOFT', 'RESIZE', 'ATTACH_DEVICE', 'DETACH_DEVICE', 'RELEASE'],
    ],
    ['running, no device', {}, ['STOP', 'RESTART', 'RESET_HARD', 'RESET_SOFT', 'RESIZE', 'ATTACH_DEVICE', 'RELEASE']],
    ['stopped', { status: 'STOPPED', devices: attached }, ['START', 'RESIZE', 'RELEASE']],
    [
      'stopped with a pending resize',
      { status: 'STOPPED', pendingResize: true },
      ['START', 'REVERT_RESIZE', 'RELEASE'],
    ],
    [
      'running with a pending resize',
      { pendingResize: true },
      ['STOP', 'RESTART', 'RESET_HARD', 'RESET_SOFT', 'REVERT_RESIZE', 'ATTACH_DEVICE', 'RELEASE'],
    ],
    ['an operation in flight: only a release', { operationInFlight: 'STOP', devices: attached }, ['RELEASE']],
    ['no capabilities (a pool)', { capabilities: ['refresh', 'jobHandlers'] }, ['RELEASE']],
    ['only power', { capabilities: ['start', 'stop'], status: 'STOPPED' }, ['START', 'RELEASE']],
    [
      'a detach the guest has not acknowledged',
      { devices: [{ state: 'DETACHING' }] },
      ['STOP', 'RESTART', 'RESET_HARD', 'RESET_SOFT', 'RESIZE', 'ATTACH_DEVICE', 'RELEASE'],
    ],
    [
      'as many devices as allowed',
      { devices: Array.from({ length: LIMITS.devices.maxCount }, () => ({ state: 'ATTACHED' as const })) },
      ['STOP', 'RESTART', 'RESET_HARD', 'RESET_SOFT', 'RESIZE', 'DETACH_DEVICE', 'RELEASE'],
    ],
    ['failed', { status: 'FAILED' }, ['RELEASE']],
    ['provisioning', { status: 'PROVISIONING' }, []],
    ['releasing', { status: 'RELEASING' }, []],
    ['released', { status: 'RELEASED' }, []],
    ['expired', { status: 'EXPIRED' }, []],
    ['gone (vanished at the provider)', { status: 'GONE' }, []],
    ['unknown (its host went silent): only release', { status: 'UNKNOWN' }, ['RELEASE']],
  ])('%s', (_name, over, expected) => {
    expect(allowedActions(ctx(over))).toEqual(expected);
  });

  // Exhaustive over statuses × in flight × pending × device states × capability subsets of one action.
  it('lists exactly the actions checkAction allows, and refuses the rest with the right code', () => {
    const deviceSets = [[], attached, [{ state: 'DETACHING' as const }]];
    for (const status of RESOURCE_STATUSES)
      for (const operationInFlight of [null, 'RESIZE'])
        for (const pendingResize of [false, true])
          for (const devices of deviceSets)
            for (const capabilities of [ALL, [], ['start' as const], ['reconfigure' as const]]) {
              const c = ctx({ status, operationInFlight, pendingResize, devices, capabilities });
              const allowed = allowedActions(c);
              for (const action of RESOURCE_ACTIONS) {
                const refusal = checkAction(action, c);
                expect(allowed.includes(action)).toBe(refusal === null);
                if (refusal && operationInFlight && action !== 'RELEASE') {
                  expect(['NOT_SUPPORTED', 'CONFLICT']).toContain(refusal.code);
                }
              }
              // Nothing but a release while an operation is in flight; never a release while busy.
              if (operationInFlight) expect(allowed.filter((a) => a !== 'RELEASE')).toEqual([]);
              if (pendingResize) expect(allowed).not.toContain('RESIZE');
              else expect(allowed).not.toContain('REVERT_RESIZE');
            }
  });

  it('checks the capability first, then the slot, then the state', () => {
    expect(checkAction('START', ctx({ capabilities: [], operationInFlight: 'STOP' }))?.code).toBe('NOT_SUPPORTED');
    expect(checkAction('START', ctx({ operationInFlight: 'STOP' }))?.code).toBe('CONFLICT');
    expect(checkAction('START', ctx())?.code).toBe('INVALID_STATE');
    expect(checkAction('START', ctx({ status: 'STOPPED' }))).toBeNull();
  });
});
