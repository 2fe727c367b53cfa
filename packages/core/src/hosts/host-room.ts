/**
 * Room on the host a resource already runs on, for an operation that grows it (a bigger
 * resize, a hot-plugged disk). Locks the host's row FOR UPDATE like placement does, so two
 * growths (or a growth and a create) never both take the last room; call it in the claim's
 * transaction before any resource or wallet row is locked (lock order: hosts → resources →
 * wallet → events). The resource itself already counts at its current size in `hostUsage`.
 */
import { SlipwayError } from '../errors.js';
import type { Executor } from '../storage/executor.js';
import { type HostCapacity, hostUsage, NO_USAGE } from './host-repository.js';

/** Fractional vCPUs add up in floating point. */
const EPSILON = 1e-9;

export const NO_GROWTH: HostCapacity = { vcpu: 0, memoryMb: 0, diskGb: 0 };

export const grows = (need: HostCapacity): boolean => need.vcpu > 0 || need.memoryMb > 0 || need.diskGb > 0;

/**
 * Lock `host` and check it has `need` free; CAPACITY_EXHAUSTED otherwise (the host's name and
 * numbers are not told: users must not learn about hosts).
 */
export async function claimHostRoom(trx: Executor, host: string, need: HostCapacity, resourceId: string) {
  const row = await trx
    .selectFrom('hosts')
    .select(['vcpu', 'memory_mb', 'disk_gb'])
    .where('name', '=', host)
    .forUpdate()
    .executeTakeFirst();
  const used = (await hostUsage(trx, [host])).get(host) ?? NO_USAGE;
  const fits =
    row !== undefined &&
    row.vcpu - used.vcpu - need.vcpu >= -EPSILON &&
    row.memory_mb - used.memoryMb - need.memoryMb >= 0 &&
    row.disk_gb - used.diskGb - need.diskGb >= 0;
  if (fits) return;
  const size = [
    need.vcpu > 0 ? `${need.vcpu} more vCPU` : '',
    need.memoryMb > 0 ? `${need.memoryMb} MB more memory` : '',
    need.diskGb > 0 ? `${need.diskGb} GB more disk` : '',
  ].filter(Boolean);
  throw new SlipwayError('CAPACITY_EXHAUSTED', `no room for ${size.join(', ')} on the resource's host`, {
    details: { resourceId },
  });
}
