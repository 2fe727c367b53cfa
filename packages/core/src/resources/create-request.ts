/**
 * A create request, checked before any credit moves: the input against its schema, the
 * provisioner's options against the provisioner's, the lifetime, and the price. Also how a
 * retry of a request answers (the same as the first time, or a typed error).
 */

import {
  type CreateResourceInput,
  CreateResourceInputSchema,
  type ParsedCreateResourceInput,
  type Resource,
  type ResourceSpec,
} from '../domain.js';
import { ERROR_CODES, type ErrorCode, SlipwayError } from '../errors.js';
import { LIMITS } from '../limits/limits.js';
import type { Pricer } from '../pricing/pricer.js';
import type { Clock } from '../provisioner/provisioner.js';
import type { ProvisionerRegistry } from '../provisioner/registry.js';
import type { RuntimeProvisioner } from '../provisioner/runtime-provisioner.js';
import { parseOrThrow } from '../util/parse.js';
import { canonicalJson, type ResourceRow, toResource } from './resource-mapper.js';
import type { ResourcePolicy } from './resource-policy.js';

export interface PreparedCreate {
  input: ParsedCreateResourceInput;
  runtime: RuntimeProvisioner;
  options: Record<string, unknown>;
  spec: ResourceSpec;
  price: number;
  expiresAt: Date | null;
  /** The parameters as stored, to tell a retry from a different request with the same requestId. */
  params: Record<string, unknown>;
}

export interface PrepareDeps {
  registry: ProvisionerRegistry;
  pricer: Pricer;
  clock: Clock;
  policy: Pick<ResourcePolicy, 'maxMetadataBytes'>;
}

/** Validate and price a create (typed callers and untyped ones alike); VALIDATION_FAILED names the field. */
export async function prepareCreate(d: PrepareDeps, raw: CreateResourceInput): Promise<PreparedCreate> {
  const input = parseOrThrow(CreateResourceInputSchema, raw);
  if (!d.registry.has(input.provisioner)) {
    throw new SlipwayError('UNKNOWN_PROVISIONER', `no provisioner named ${input.provisioner}`, {
      details: { field: 'provisioner', name: input.provisioner },
    });
  }
  const metadataBytes = Buffer.byteLength(JSON.stringify(input.metadata));
  if (metadataBytes > d.policy.maxMetadataBytes) {
    throw new SlipwayError(
      'VALIDATION_FAILED',
      `metadata: ${metadataBytes} bytes exceeds ${d.policy.maxMetadataBytes}`,
      {
        details: { field: 'metadata' },
      },
    );
  }
  const runtime = d.registry.get(input.provisioner);
  if (input.host !== undefined && !runtime.has('host')) {
    throw new SlipwayError('VALIDATION_FAILED', `host: provisioner ${runtime.name} does not place on hosts`, {
      details: { field: 'host', host: input.host },
    });
  }
  const options = runtime.parseOptions(input.options);
  const now = d.clock.now();
  if (input.ttlSeconds !== undefined && input.expiresAt !== undefined) {
    throw new SlipwayError('VALIDATION_FAILED', 'expiresAt: give either ttlSeconds or expiresAt', {
      details: { field: 'expiresAt' },
    });
  }
  if (input.expiresAt !== undefined && input.expiresAt.getTime() > now.getTime() + LIMITS.ttlSeconds.max * 1000) {
    throw new SlipwayError(
      'VALIDATION_FAILED',
      `expiresAt: at most ${LIMITS.ttlSeconds.max} s from now, like ttlSeconds`,
      {
        details: { field: 'expiresAt' },
      },
    );
  }
  if (input.expiresAt !== undefined && input.expiresAt.getTime() <= now.getTime()) {
    throw new SlipwayError('VALIDATION_FAILED', 'expiresAt: must be in the future', {
      details: { field: 'expiresAt' },
    });
  }
  const expiresAt =
    input.expiresAt ?? (input.ttlSeconds !== undefined ? new Date(now.getTime() + input.ttlSeconds * 1000) : null);
  const ttlSeconds = expiresAt ? Math.ceil((expiresAt.getTime() - now.getTime()) / 1000) : null;
  const price = await d.pricer.quote(runtime, input.spec, options, { ttlSeconds });
  const params = {
    name: input.name,
    provisioner: input.provisioner,
    kind: input.kind,
    spec: input.spec,
    options,
    labels: input.labels,
    metadata: input.metadata,
    ttlSeconds: input.ttlSeconds ?? null,
    expiresAt: input.expiresAt?.toISOString() ?? null,
    host: input.host ?? null,
  };
  return { input, runtime, options, spec: input.spec, price, expiresAt, params };
}

/** A create whose (owner, requestId) exists: same parameters → same answer; else a typed error. */
export function answerRetry(row: ResourceRow, params: Record<string, unknown>): Resource {
  const stored = row.request_params;
  const fields = Object.keys({ ...stored, ...params }).filter(
    (k) => canonicalJson(stored[k] ?? null) !== canonicalJson(params[k] ?? null),
  );
  if (fields.length > 0) {
    throw new SlipwayError(
      'IDEMPOTENCY_MISMATCH',
      `requestId ${row.request_id} was used with different ${fields.join(', ')}`,
      { details: { fields, requestId: row.request_id, resourceId: row.id } },
    );
  }
  if (row.status === 'PROVISIONING') {
    throw new SlipwayError('REQUEST_IN_PROGRESS', `request ${row.request_id} is still being provisioned`, {
      details: { requestId: row.request_id, resourceId: row.id },
    });
  }
  if (row.status === 'FAILED') throw storedFailure(row);
  return toResource(row);
}

/** The typed error a failed allocation left on its resource (the same for every retry). */
export function storedFailure(row: ResourceRow): SlipwayError {
  const code = isErrorCode(row.error_code) ? row.error_code : 'PROVISIONER_FAILED';
  return new SlipwayError(code, row.error ?? 'allocation failed', {
    details: { resourceId: row.id, requestId: row.request_id },
  });
}

const isErrorCode = (code: string | null): code is ErrorCode => code !== null && code in ERROR_CODES;
