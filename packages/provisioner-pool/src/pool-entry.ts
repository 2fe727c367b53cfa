/** One machine of the pool as an operator writes it in VM_POOL_JSON or the pool file. */
import { LabelsSchema } from '@slipway/core';
import { z } from 'zod';

const hostSchema = z.union([z.ipv4(), z.ipv6(), z.hostname()], {
  error: 'must be an IPv4/IPv6 address or a host name',
});

export const poolSizeSchema = z.strictObject({
  vcpu: z.number().positive().max(512),
  memoryMb: z.number().int().min(1).max(4_194_304),
  diskGb: z.number().int().min(0).max(65_536),
});

// Strict: a typo such as `cockpitURL` is reported instead of being silently ignored.
export const poolEntrySchema = z.strictObject({
  /** Stable id; used as the allocation's externalId and in store keys. */
  id: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, . _ - (starting with a letter or digit)'),
  /** Display name; defaults to the id. */
  name: z.string().min(1).max(128).optional(),
  host: hostSchema,
  sshPort: z.number().int().min(1).max(65_535).default(22),
  cockpitUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).nullish(),
  size: poolSizeSchema,
  labels: LabelsSchema.default({}),
  /** `maintenance` machines are never handed out. */
  status: z.enum(['available', 'maintenance']).default('available'),
});

export type PoolEntryInput = z.input<typeof poolEntrySchema>;
export type PoolSize = z.output<typeof poolSizeSchema>;

/** A validated machine with every default filled in. */
export interface PoolMachine {
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly sshPort: number;
  readonly cockpitUrl: string | null;
  readonly size: PoolSize;
  readonly labels: Readonly<Record<string, string>>;
  readonly status: 'available' | 'maintenance';
}
