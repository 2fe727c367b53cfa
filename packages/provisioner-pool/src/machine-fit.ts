/** Which machines fit a request, and in which order to try them. */
import type { AllocationRequest } from '@slipway/core';
import type { MachineRecord } from './machine-record.js';

/** Size at least what is asked for; every requested label present with the same value. */
export function fits(m: MachineRecord, req: AllocationRequest): boolean {
  const { vcpu, memoryMb, diskGb } = req.spec;
  return (
    m.size.vcpu >= vcpu &&
    m.size.memoryMb >= memoryMb &&
    m.size.diskGb >= diskGb &&
    Object.entries(req.labels).every(([k, v]) => m.labels[k] === v)
  );
}

/**
 * Smallest fitting machines first (big ones stay free for big requests); among equal sizes a
 * per-request hash order, so concurrent claims on several replicas start on different rows
 * instead of queueing behind the same lock, while a retry tries the same order again.
 */
export function claimOrder(resourceId: string): (a: MachineRecord, b: MachineRecord) => number {
  return (a, b) =>
    a.size.vcpu - b.size.vcpu ||
    a.size.memoryMb - b.size.memoryMb ||
    a.size.diskGb - b.size.diskGb ||
    fnv1a(`${resourceId}/${a.id}`) - fnv1a(`${resourceId}/${b.id}`) ||
    (a.id < b.id ? -1 : 1);
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
