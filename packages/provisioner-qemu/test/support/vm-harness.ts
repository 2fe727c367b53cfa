/** A provisioner under test with a running watcher whose reports are kept, and a shared store. */
import {
  type Allocation,
  type MachineReport,
  memoryProvisionerStore,
  type ProvisionerStore,
  silentLogger,
  systemClock,
  type WatchHandle,
} from '@slipway/core';
import { baseRequest, conformanceContext } from '@slipway/core/testing';
import { type QemuProvisioner, type QemuProvisionerConfigInput, qemuProvisioner } from '../../src/index.js';
import type { VmRecord } from '../../src/vm/vm-record.js';

export interface Harness {
  p: QemuProvisioner;
  store: ProvisionerStore;
  reports: { resourceId: string; report: MachineReport }[];
  watcher: WatchHandle;
  ctx(): ReturnType<typeof conformanceContext>;
  record(vmId: string): Promise<VmRecord | undefined>;
  /** Wait for a report of `resourceId` matching `match`, at or after index `from`. */
  waitForReport(
    resourceId: string,
    match: (r: MachineReport) => boolean,
    from?: number,
    timeoutMs?: number,
  ): Promise<MachineReport>;
  close(): Promise<void>;
}

export async function startHarness(
  config: QemuProvisionerConfigInput,
  store: ProvisionerStore = memoryProvisionerStore(),
): Promise<Harness> {
  const p = qemuProvisioner(config);
  const reports: Harness['reports'] = [];
  const waiters = new Set<() => void>();
  const controller = new AbortController();
  const watcher = await p.watch({
    signal: controller.signal,
    logger: silentLogger,
    clock: systemClock,
    store,
    jobs: { enqueue: async () => {} },
    report: async (resourceId, report) => {
      reports.push({ resourceId, report });
      for (const wake of waiters) wake();
    },
  });
  const ctx = () => conformanceContext(undefined, { store });
  return {
    p,
    store,
    reports,
    watcher,
    ctx,
    record: async (vmId) => (await store.get<VmRecord>(`vm/${vmId}`))?.value,
    waitForReport(resourceId, match, from = 0, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = reports.slice(from).find((r) => r.resourceId === resourceId && match(r.report));
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found.report);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching report for ${resourceId}: ${JSON.stringify(reports.slice(from))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      controller.abort();
      await watcher.close();
      await p.close();
    },
  };
}

export async function allocateVm(
  h: Harness,
  overrides: Parameters<typeof baseRequest>[0] = {},
): Promise<Allocation & { vmId: string }> {
  const req = baseRequest({ spec: { vcpu: 1, memoryMb: 256, diskGb: 1 }, name: 'test-vm', ...overrides });
  const allocation = await h.p.allocate({ ...req, options: h.p.optionsSchema.parse(req.options) }, h.ctx());
  return { ...allocation, vmId: allocation.externalId };
}
