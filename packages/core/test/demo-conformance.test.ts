import { demoProvisioner } from '@slipway/core';
import { describeProvisionerConformance } from '@slipway/core/testing';

// The demo provisioner is the reference plugin and the conformance suite's self-test.
describeProvisionerConformance({
  name: 'demo',
  create: () => demoProvisioner(),
  slowRequest: (req) => ({ ...req, options: { delayMs: 5_000 } }),
});

// The same contract holds when the demo keeps its machines in ctx.store.
describeProvisionerConformance({
  name: 'demo (persistent)',
  create: () => demoProvisioner({ persistent: true }),
  slowRequest: (req) => ({ ...req, options: { delayMs: 5_000 } }),
});
