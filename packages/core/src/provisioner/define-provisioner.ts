/**
 * `defineProvisioner()`: the way to write a provisioner. It infers `Options` from
 * `optionsSchema`, so `allocate`, `quote` and friends receive typed options, keeps any
 * plugin-local members in the returned type, and checks the definition at once (name,
 * required members, capability member types), so a broken plugin fails where it is written
 * rather than when the core first calls it.
 */
import { PROVISIONER_NAME } from '../domain.js';
import { SlipwayError } from '../errors.js';
import { CAPABILITY_NAMES, type CapabilityName } from './capabilities.js';
import { HostDescriptorSchema } from './contract-schemas.js';
import type { Provisioner, ProvisionerOptions } from './provisioner.js';

export function defineProvisioner<
  Options extends ProvisionerOptions = Record<string, never>,
  P extends Provisioner<Options> = Provisioner<Options>,
>(definition: P & Provisioner<Options>): P {
  checkProvisioner(definition);
  return definition;
}

/** Throws VALIDATION_FAILED (naming the member) unless `p` can be registered. */
export function checkProvisioner(p: unknown): asserts p is Provisioner {
  const candidate = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
  const name = candidate.name;
  if (typeof name !== 'string' || !PROVISIONER_NAME.test(name)) {
    throw invalid('name', `provisioner name ${JSON.stringify(name)} is invalid (${PROVISIONER_NAME.source})`);
  }
  if (typeof candidate.isDemo !== 'boolean') throw invalid('isDemo', `provisioner ${name}: isDemo must be a boolean`);
  for (const member of ['allocate', 'release', 'status'] as const) {
    if (typeof candidate[member] !== 'function') throw invalid(member, `provisioner ${name} has no ${member}()`);
  }
  for (const member of CAPABILITY_NAMES) {
    const value = candidate[member];
    if (value !== undefined && !capabilityShapeOk(member, value)) {
      throw invalid(member, `provisioner ${name}: ${member} is not ${expected(member)}`);
    }
  }
}

function capabilityShapeOk(member: CapabilityName, value: unknown): boolean {
  if (member === 'optionsSchema') return typeof (value as { safeParse?: unknown })?.safeParse === 'function';
  if (member === 'jobHandlers') {
    return typeof value === 'object' && value !== null && Object.values(value).every((h) => typeof h === 'function');
  }
  if (member === 'host') return HostDescriptorSchema.safeParse(value).success;
  return typeof value === 'function';
}

const expected = (member: CapabilityName): string =>
  member === 'optionsSchema'
    ? 'a zod schema'
    : member === 'jobHandlers'
      ? 'an object of handler functions'
      : member === 'host'
        ? 'a host descriptor ({ name, capacity: { vcpu, memoryMb, diskGb } })'
        : 'a function';

const invalid = (field: string, message: string): SlipwayError =>
  new SlipwayError('VALIDATION_FAILED', message, { details: { field } });
