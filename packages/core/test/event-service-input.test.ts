import { afterEach, describe, expect, it } from 'vitest';
import { type Actor, createSlipway, demoProvisioner, type Slipway } from '../src/index.js';
import { createTestStorage, type TestStorage } from '../src/testing/index.js';

const alice: Actor = { id: 'alice', role: 'user' };

describe('EventService filters from an embedding app', () => {
  let storage: TestStorage;
  let slipway: Slipway;
  afterEach(async () => {
    await slipway?.close();
    await storage?.close();
  });

  it('bad cursors, page sizes and ids are VALIDATION_FAILED naming the field, never a database error', async () => {
    storage = await createTestStorage('pglite');
    slipway = await createSlipway({ database: storage, provisioners: [demoProvisioner()], rateLimits: {} });
    const history = [
      [{ before: 1.5 }, 'before'],
      [{ before: Number.NaN }, 'before'],
      [{ before: 2n ** 63n }, 'before'],
      [{ before: -(2n ** 63n) - 1n }, 'before'],
      [{ last: 2.5 }, 'last'],
      [{ last: 0 }, 'last'],
      [{ resourceId: 'nope' }, 'resourceId'],
    ] as const;
    for (const [query, field] of history) {
      await expect(slipway.eventService.history(alice, query)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { field: `filter.${field}` },
      });
    }
    await expect(slipway.eventService.list(alice, { after: 1.5 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'filter.after' },
    });
    await expect(slipway.eventService.list(alice, { first: -3 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'filter.first' },
    });
    expect(await slipway.eventService.history(alice, { before: 2n ** 62n, last: 10 })).toEqual([]);
    expect(await slipway.eventService.list(alice, { after: 0, first: 10 })).toEqual([]);
  });
});
