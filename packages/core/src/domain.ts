/** Domain types and their zod schemas, shared by the core, the plugins and the server. */
import { z } from 'zod';
import { LIMITS } from './limits/limits.js';
import type { OperationOutcome, ResourceDevice, ResourceOperation } from './operation-domain.js';
import { parseQuantity } from './pricing/quantity.js';

export const RESOURCE_KINDS = ['vm', 'pod'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** What a provisioner reports about a machine. */
export const ALLOCATION_STATES = ['provisioning', 'running', 'stopped', 'failed', 'gone'] as const;
export type AllocationStatusState = (typeof ALLOCATION_STATES)[number];

/** Lifecycle of a resource as Slipway stores it. */
export const RESOURCE_STATUSES = [
  'PROVISIONING',
  'RUNNING',
  'STOPPED',
  'FAILED',
  'RELEASING',
  'RELEASED',
  'EXPIRED',
  /** Its host stopped heartbeating: the machine may still run; back to its real status when the host returns. */
  'UNKNOWN',
  /** The machine no longer exists at the provider (the orphan reaper found it missing): nothing more is charged, the charge stays. */
  'GONE',
] as const;
export type ResourceStatus = (typeof RESOURCE_STATUSES)[number];
/** Statuses after which the machine no longer exists and nothing more is charged. */
export const TERMINAL_STATUSES: readonly ResourceStatus[] = ['FAILED', 'RELEASED', 'EXPIRED', 'GONE'];

export const ResourceSpecSchema = z.object({
  /** Whole or fractional vCPUs (0.5 = "500m"). */
  vcpu: z.number().min(LIMITS.spec.vcpuMin).max(LIMITS.spec.vcpuMax),
  memoryMb: z.number().int().min(LIMITS.spec.memoryMbMin).max(LIMITS.spec.memoryMbMax),
  diskGb: z.number().int().min(0).max(LIMITS.spec.diskGbMax),
  osType: z.string().min(1).max(LIMITS.spec.osTypeMaxLength).optional(),
  image: z.string().min(1).max(LIMITS.spec.imageMaxLength).optional(),
});
export type ResourceSpec = z.infer<typeof ResourceSpecSchema>;

/**
 * A spec as clients send it: `vcpu`/`memoryMb`, or Kubernetes quantities `cpu` ("500m")
 * and `memory` ("2Gi", "512Mi"), which are turned into vCPU and MB.
 */
export const ResourceSpecInputSchema = z.preprocess((raw) => {
  if (typeof raw !== 'object' || raw === null) return raw;
  const { cpu, memory, ...rest } = raw as Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest };
  if (cpu !== undefined && out.vcpu === undefined) out.vcpu = quantityOrRaw(cpu, 1);
  if (memory !== undefined && out.memoryMb === undefined) out.memoryMb = quantityOrRaw(memory, 2 ** 20, true);
  return out;
}, ResourceSpecSchema);

function quantityOrRaw(value: unknown, unit: number, ceil = false): unknown {
  if (typeof value !== 'string' && typeof value !== 'number') return value;
  try {
    const n = parseQuantity(value) / unit;
    return ceil ? Math.ceil(n) : Math.round(n * 1000) / 1000;
  } catch {
    return value; // the spec schema then reports a type error on the field
  }
}

export const PROVISIONER_NAME = LIMITS.provisionerName.pattern;

const labelKey = z.string().regex(LIMITS.labels.keyPattern, 'label keys are 1-63 of [A-Za-z0-9._/-]');
export const LabelsSchema = z
  .record(labelKey, z.string().max(LIMITS.labels.valueMaxLength))
  .refine((labels) => Object.keys(labels).length <= LIMITS.labels.maxCount, {
    message: `at most ${LIMITS.labels.maxCount} labels`,
  });

export const CreateResourceInputSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1)
    .max(LIMITS.resourceName.maxLength)
    .regex(LIMITS.resourceName.pattern, 'letters, digits, . _ -'),
  provisioner: z.string().regex(PROVISIONER_NAME, 'not a provisioner name'),
  kind: z.enum(RESOURCE_KINDS).default('vm'),
  spec: ResourceSpecInputSchema,
  options: z.record(z.string(), z.unknown()).default({}),
  labels: LabelsSchema.default({}),
  metadata: z.record(z.string(), z.unknown()).default({}),
  /** Client idempotency key; generated when absent. */
  requestId: z.string().min(1).max(LIMITS.requestId.maxLength).optional(),
  /** Lifetime in seconds from creation; mutually exclusive with expiresAt. */
  ttlSeconds: z.number().int().min(LIMITS.ttlSeconds.min).max(LIMITS.ttlSeconds.max).optional(),
  expiresAt: z.date().optional(),
  /** Host-placed provisioners only: the host to place the machine on (default: one with room). */
  host: z.string().regex(LIMITS.hostName.pattern, 'not a host name').optional(),
});
/**
 * A spec as clients send it: `vcpu`/`memoryMb`, or Kubernetes quantities `cpu` ("500m")
 * and `memory` ("2Gi"). Checked at run time by `ResourceSpecInputSchema`.
 */
export type ResourceSpecInput = Omit<ResourceSpec, 'vcpu' | 'memoryMb'> & {
  vcpu?: number;
  memoryMb?: number;
  /** Kubernetes CPU quantity; used when `vcpu` is absent. */
  cpu?: string | number;
  /** Kubernetes memory quantity; used when `memoryMb` is absent. */
  memory?: string | number;
};

/**
 * What `quote`/`create` take (`z.input` of the schema, with the spec typed as sent).
 * The service still validates it at run time, so untyped callers get VALIDATION_FAILED.
 */
export type CreateResourceInput = Omit<z.input<typeof CreateResourceInputSchema>, 'spec'> & {
  spec: ResourceSpecInput;
};
export type ParsedCreateResourceInput = z.output<typeof CreateResourceInputSchema>;

/** A JSON merge patch (RFC 7386) of a resource's metadata: objects merge, `null` deletes a key. */
export type MetadataPatch = Record<string, unknown>;

export type Role = 'user' | 'admin';

/** Who is calling: every service method takes one, and scopes what it sees by it. */
export interface Actor {
  readonly id: string;
  readonly role: Role;
}

export const isAdmin = (actor: Actor): boolean => actor.role === 'admin';

export interface Account {
  id: string;
  role: Role;
  forgeId: string | null;
  createdAt: Date;
}

export interface Wallet {
  accountId: string;
  /** Sum of all ledger entries. */
  balance: number;
  /** Sum of pending reservations. */
  held: number;
  /** balance - held: what a new reservation may take. */
  available: number;
}

export interface Resource {
  id: string;
  ownerId: string;
  name: string;
  kind: ResourceKind;
  provisioner: string;
  /** The host the machine was placed on (host-placed provisioners), else null. */
  host: string | null;
  spec: ResourceSpec;
  options: Record<string, unknown>;
  status: ResourceStatus;
  externalId: string | null;
  ip: string | null;
  sshPort: number | null;
  cockpitUrl: string | null;
  metadata: Record<string, unknown>;
  labels: Record<string, string>;
  expiresAt: Date | null;
  /** Credits held (while provisioning) or charged (once running). */
  cost: number;
  requestId: string;
  reservationId: string | null;
  error: string | null;
  /** The operation in flight (power, resize, hotplug), or null; at most one at a time. */
  operation: ResourceOperation | null;
  /** How the last operation ended, or null before the first. */
  lastOperation: OperationOutcome | null;
  /** A resize that applies at the next boot, or null. */
  pendingSpec: ResourceSpec | null;
  devices: ResourceDevice[];
  createdAt: Date;
  updatedAt: Date;
  releasedAt: Date | null;
}
