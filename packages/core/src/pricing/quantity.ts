import { validationError } from '../errors.js';

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const DECIMAL: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

/**
 * Parse a Kubernetes quantity ("500m", "2", "2Gi", "512Mi", "1.5G") to a plain number
 * (cores for CPU, bytes for memory).
 */
export function parseQuantity(value: string | number, field = 'quantity'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw validationError(field, 'must be a non-negative number');
    return value;
  }
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(Ki|Mi|Gi|Ti|Pi|m|k|M|G|T|P)?\s*$/.exec(value);
  if (!match) throw validationError(field, `"${value}" is not a Kubernetes quantity`);
  const [, num = '0', suffix = ''] = match;
  return Number(num) * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}
