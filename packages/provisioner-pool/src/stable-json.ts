import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted. PostgreSQL's jsonb reorders keys, so records read back from
 * the store are compared (and pool definitions fingerprinted) in this form.
 */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export const sameJson = (a: unknown, b: unknown): boolean => stableJson(a) === stableJson(b);

export const fingerprint = (value: unknown): string => createHash('sha256').update(stableJson(value)).digest('hex');
