/** How the runtime turns what a plugin throws, and what its options schema says, into typed errors. */
import type { z } from 'zod';
import { errorMessage, isSlipwayError, SlipwayError } from '../errors.js';
import { survivesJson } from '../util/json.js';
import type { ProvisionerOptions } from './provisioner.js';

/**
 * Keep typed errors (time-out, abort, or a plugin's SlipwayError, from this or another copy
 * of the core: code, details and `retryable` survive); wrap the rest as PROVISIONER_FAILED.
 */
export function wrapError(error: unknown, what: string): SlipwayError {
  if (isSlipwayError(error)) return error;
  return new SlipwayError('PROVISIONER_FAILED', `${what} failed: ${errorMessage(error)}`, { cause: error });
}

/**
 * Parse request options with the plugin's schema; no schema means options must be empty.
 * What it returns is stored with the resource and reaches `allocate` after a round trip
 * through the database, so it must be JSON (no Date, Map, undefined in arrays, ...).
 */
export function parseProvisionerOptions(
  provisioner: string,
  schema: z.ZodType<ProvisionerOptions> | undefined,
  options: Record<string, unknown>,
): ProvisionerOptions {
  if (!schema) {
    if (Object.keys(options).length > 0) {
      throw new SlipwayError('VALIDATION_FAILED', `options: provisioner ${provisioner} takes no options`, {
        details: { field: 'options' },
      });
    }
    return {};
  }
  let parsed: ReturnType<typeof schema.safeParse>;
  try {
    parsed = schema.safeParse(options);
  } catch (error) {
    throw wrapError(error, `${provisioner}.optionsSchema`);
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['options', ...(issue?.path ?? [])].join('.');
    throw new SlipwayError('VALIDATION_FAILED', `${field}: ${issue?.message ?? 'invalid'}`, { details: { field } });
  }
  if (!survivesJson(parsed.data)) {
    throw new SlipwayError(
      'PROVISIONER_INVALID_OUTPUT',
      `${provisioner}.optionsSchema produced options that are not plain JSON; they could not reach allocate as parsed`,
    );
  }
  return parsed.data;
}
