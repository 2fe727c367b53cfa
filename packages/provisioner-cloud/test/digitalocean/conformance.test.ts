// The core's conformance suite against the stateful DigitalOcean fake (spec-checked bodies).
import { describeProvisionerConformance } from '@slipway/core/testing';
import { afterAll, expect } from 'vitest';
import { digitalOceanProvisioner } from '../../src/digitalocean/index.js';
import { createDigitalOceanFake } from '../support/digitalocean-fake.js';
import { testConfig } from './helpers.js';

// Droplets in sgp1 take 2 s to build: the slow request the abort check needs.
const fake = await createDigitalOceanFake({ slowRegion: 'sgp1', slowMs: 2_000 });

describeProvisionerConformance({
  name: 'digitalocean',
  create: () => digitalOceanProvisioner(testConfig(fake), { fetch: fake.fetch }),
  slowRequest: (base) => ({ ...base, options: { region: 'sgp1' } }),
  timeoutMs: 10_000,
});

afterAll(() => {
  expect(fake.violations).toEqual([]);
});
