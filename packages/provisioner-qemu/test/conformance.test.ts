// The core's conformance suite against real QEMU booting the test guest (scripts/ci-build-guest.sh).
// Under CI=true a missing QEMU or guest fails it; elsewhere it is skipped with the reason.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { sqlProvisionerStore } from '@slipway/core';
import { createTestStorage, describeProvisionerConformance } from '@slipway/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { qemuProvisioner } from '../src/index.js';
import { mustRunVmTests, processesUsing, testConfig, vmTestDirs, vmTestsMissingReason } from './support/test-guest.js';

const missing = vmTestsMissingReason();
if (missing && !mustRunVmTests) console.warn(`Skipping the QEMU conformance suite: ${missing}`);

describe.skipIf(missing !== undefined && !mustRunVmTests)('qemu provisioner conformance', async () => {
  it('has QEMU and the test guest', () => {
    expect(missing).toBeUndefined();
  });
  if (missing) return;
  const dirs = vmTestDirs();

  describeProvisionerConformance({
    name: 'qemu',
    create: () => qemuProvisioner(testConfig(dirs)),
    dispose: (p) => p.close(),
    request: (base) => ({ ...base, spec: { vcpu: 1, memoryMb: 256, diskGb: 1 } }),
    timeoutMs: 60_000,
  });

  // The same suite over the real SQL store (embedded PGlite): records go through JSON and CAS there.
  const storage = await createTestStorage('pglite');
  afterAll(() => storage.close());
  describeProvisionerConformance({
    name: 'qemu on the SQL store',
    create: async () => qemuProvisioner(testConfig(dirs)),
    dispose: (p) => p.close(),
    request: (base) => ({ ...base, spec: { vcpu: 1, memoryMb: 256, diskGb: 1 } }),
    timeoutMs: 60_000,
    store: sqlProvisionerStore(storage.db, 'qemu'),
  });

  afterAll(() => {
    const left = processesUsing(dirs.root);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    const vms = existsSync(dirs.stateDir) ? readdirSync(dirs.stateDir) : [];
    rmSync(dirs.root, { recursive: true, force: true });
    expect(left, 'QEMU processes left').toEqual([]);
    expect(vms, 'VM directories left').toEqual([]);
  });
});
