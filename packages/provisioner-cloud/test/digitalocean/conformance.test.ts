// The core's conformance suite against the stateful DigitalOcean fake (spec-checked bodies).
import { describeProvisionerConformance } from '@slipway/core/testing';
import { afterAll, expect } from 'vitest';
import { digitalOceanProvisioner } from '../../src/digitalocean/index.js';
import { createDigitalOceanFake } from '../support/digitalocean-fake.js';
import { testConfig } from './helpers.js';

const fake = await createDigitalOceanFake();

describeProvisionerConformance({
  name: 'digitalocean',
  create: () => digitalOceanProvisioner(testConfig(fake), { fetch: fake.fetch }),
  timeoutMs: 10_000,
});

afterAll(() => {
  expect(fake.violations).toEqual([]);
});
