import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/util/uuidv7.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const msOf = (id: string) => Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('uuidv7', () => {
  it('is a version 7, variant 10 uuid carrying its millisecond', () => {
    for (const ms of [0, 1, 2 ** 32 - 1, 2 ** 32, Date.UTC(2026, 11, 3, 9, 0, 0, 123), 2 ** 48 - 1]) {
      const id = uuidv7(ms);
      expect(id).toMatch(V7);
      expect(msOf(id)).toBe(ms);
    }
  });

  it('sorts by time, as text and as PostgreSQL compares uuids (bytewise)', () => {
    const ids = [5, 1_000, 1_700_000_000_000, 1_700_000_000_001, 2 ** 44].map((ms) => uuidv7(ms));
    expect([...ids].sort()).toEqual(ids);
  });

  it('is random within a millisecond', () => {
    const ids = new Set(Array.from({ length: 1_000 }, () => uuidv7(42)));
    expect(ids.size).toBe(1_000);
  });
});
