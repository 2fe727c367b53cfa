// Not exported by @slipway/core yet.
import { sqlProvisionerStore } from '@slipway/core';
import { createTestStorage, describeProvisionerConformance } from '@slipway/core/testing';
import { afterAll } from 'vitest';
import { poolProvisioner } from '../src/index.js';
import { machines } from './helpers.js';

const create = () => poolProvisioner({ source: { kind: 'static', machines: machines(8) } });

describeProvisionerConformance({ name: 'pool', create });

// The same suite over the real SQL store (embedded PGlite).
const storage = await createTestStorage('pglite');
afterAll(() => storage.close());
describeProvisionerConformance({
  name: 'pool on the SQL store',
  create,
  store: sqlProvisionerStore(storage.db, 'pool'),
});
