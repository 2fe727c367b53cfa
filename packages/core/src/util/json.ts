/**
 * Whether `value` reads back the same after JSON (what the database does to stored options):
 * null, booleans, finite numbers, strings, arrays and plain objects; an undefined property
 * is fine (it reads back as absent).
 */
export function survivesJson(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => v !== undefined && survivesJson(v, depth + 1));
  if (typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value).every((v) => v === undefined || survivesJson(v, depth + 1));
}
