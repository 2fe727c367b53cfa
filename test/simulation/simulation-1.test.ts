/** Deterministic simulation, first half of the seeds (see ./seed-runs.ts and docs/testing.md). */
import { describeSeedRuns } from './seed-runs.js';

describeSeedRuns(0, 2);
