// The core's conformance suite against the stateful RunPod fake (msw + graphql-js over the SDL).
import { describeProvisionerConformance } from '@slipway/core/testing';
import { runpodProvisioner } from '../../src/runpod/index.js';
import { testConfig, useRunpodFake } from './helpers.js';

const SLOW_GPU = 'NVIDIA H100 80GB HBM3';
// H100 pods take ~400 polls of 5 ms to start: long enough to be aborted half-way.
const rp = useRunpodFake({ readyAfterPolls: 2, readyAfterPollsFor: { [SLOW_GPU]: 400 } });

describeProvisionerConformance({
  name: 'runpod',
  create: () => runpodProvisioner(testConfig(rp.fake)),
  request: (base) => ({ ...base, kind: 'pod' }),
  slowRequest: (base) => ({ ...base, options: { gpuType: SLOW_GPU } }),
  timeoutMs: 10_000,
});
