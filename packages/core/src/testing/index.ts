// @slipway/core/testing: the conformance suite and test-database helpers.
export {
  baseRequest,
  type ConformanceOptions,
  conformanceContext,
  describeProvisionerConformance,
  type RecordingJobQueue,
  recordingJobQueue,
} from './conformance.js';
export { createTestStorage, postgresReachable, type TestStorage, testEngines, testPostgresUrl } from './databases.js';
export { type ManualClock, manualClock } from './manual-clock.js';
export { pgliteTemplateSetup } from './pglite-template.js';
