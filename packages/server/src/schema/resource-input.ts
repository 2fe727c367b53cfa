/**
 * `CreateResourceInput`, shared by `quote` and `createResource`. Fields are loose on
 * purpose: core's zod schema is the one validator, and its VALIDATION_FAILED names the
 * offending path (`spec.vcpu`, `labels.x`, …) in a ValidationError.
 */
import type { CreateResourceInput as CoreCreateResourceInput } from '@slipway/core';
import { builder } from '../builder.js';

export const ResourceKindEnum = builder.enumType('ResourceKind', {
  values: { VM: { value: 'vm' as const }, POD: { value: 'pod' as const } },
});

const SpecInput = builder.inputType('SpecInput', {
  description: 'Give vcpu/memoryMb, or Kubernetes quantities cpu ("500m") and memory ("2Gi").',
  fields: (t) => ({
    vcpu: t.float(),
    memoryMb: t.int(),
    cpu: t.string({ description: 'Kubernetes CPU quantity, e.g. "500m" or "2"; used when vcpu is absent.' }),
    memory: t.string({
      description: 'Kubernetes memory quantity, e.g. "512Mi" or "2Gi"; used when memoryMb is absent.',
    }),
    diskGb: t.int(),
    osType: t.string(),
    image: t.string(),
  }),
});

export const CreateResourceInput = builder.inputType('CreateResourceInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    provisioner: t.string({ required: true, description: 'See `provisioners` for the registered names.' }),
    kind: t.field({ type: ResourceKindEnum, defaultValue: 'vm' }),
    spec: t.field({ type: SpecInput, required: true }),
    options: t.field({ type: 'JSON', description: 'Provisioner-specific options, checked by its own schema.' }),
    labels: t.field({ type: 'JSON', description: 'String-to-string map.' }),
    metadata: t.field({ type: 'JSON', description: 'Free JSON object; merge-update later.' }),
    requestId: t.string({ description: 'Idempotency key: retrying with the same key never creates twice.' }),
    ttlSeconds: t.int({ description: 'Lifetime from creation; or give expiresAt.' }),
    expiresAt: t.field({ type: 'DateTime' }),
    host: t.string({
      description:
        'Host-placed provisioners only: the host to place it on (default: one with room). An unknown host is a ValidationError.',
    }),
  }),
});

/**
 * GraphQL sends explicit nulls for omitted optionals; core's schema wants them absent. The
 * JSON fields go on as they came: the core validates the whole input at run time.
 */
export function toCoreInput(input: Record<string, unknown>): CoreCreateResourceInput {
  const out = dropNulls(input);
  if (typeof out.spec === 'object' && out.spec !== null) out.spec = dropNulls(out.spec as Record<string, unknown>);
  return out as CoreCreateResourceInput;
}

const dropNulls = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
