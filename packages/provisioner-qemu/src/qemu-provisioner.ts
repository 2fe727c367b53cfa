/**
 * `qemuProvisioner(config)`: QEMU VMs on this replica's host, driven over QMP. The VMs live in
 * `ctx.store` (records) and in their own processes (which outlive the server); this object only
 * holds the QMP sessions and per-VM locks of the running process.
 */
import {
  defineProvisioner,
  type HasCatalog,
  type HostPlaced,
  type Hotplug,
  type Inventory,
  type PowerControl,
  type Provisioner,
  type Reconfigurable,
  SlipwayError,
  type ValidatesOptions,
} from '@slipway/core';
import {
  type QemuOptions,
  type QemuProvisionerConfig,
  type QemuProvisionerConfigInput,
  QemuProvisionerConfigSchema,
  qemuCatalog,
  qemuOptionsSchema,
} from './config.js';
import { allocateVm } from './vm/vm-allocate.js';
import { onVmEvent } from './vm/vm-events.js';
import { attachDevice, detachDevice } from './vm/vm-hotplug.js';
import { reconfigureVm, resetVm, restartVm, startVm, stopVm } from './vm/vm-power.js';
import { releaseVm, vmStatus } from './vm/vm-release-status.js';
import { createRuntime } from './vm/vm-runtime.js';
import { inventoryVms, watchVms } from './vm/vm-watch.js';

export type QemuProvisioner = Provisioner<QemuOptions> &
  ValidatesOptions<QemuOptions> &
  PowerControl &
  Reconfigurable &
  Hotplug &
  Inventory &
  HasCatalog &
  HostPlaced & {
    /** The parsed configuration (defaults filled in). */
    readonly config: QemuProvisionerConfig;
    /** The accelerator VMs get (`auto` resolved). */
    readonly accel: 'tcg' | 'kvm';
    /** Close the QMP sessions of this instance; the VMs keep running. */
    close(): Promise<void>;
  };

/** Parse a configuration; VALIDATION_FAILED names the first bad field. */
export function parseQemuConfig(input: unknown): QemuProvisionerConfig {
  const parsed = QemuProvisionerConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') || 'config';
  throw new SlipwayError('VALIDATION_FAILED', `qemu provisioner config: ${field}: ${issue?.message ?? 'invalid'}`, {
    details: { field },
  });
}

export function qemuProvisioner(input: QemuProvisionerConfigInput): QemuProvisioner {
  const config = parseQemuConfig(input);
  const rt = createRuntime(config);
  rt.sessions.onEvent((vmId, event, current) => onVmEvent(rt, vmId, event, current));

  return defineProvisioner<QemuOptions, QemuProvisioner>({
    name: config.name,
    isDemo: false,
    config,
    accel: rt.accel,
    host: config.host,
    optionsSchema: qemuOptionsSchema(config.catalog),
    catalog: () => qemuCatalog(config),
    allocate: (req, ctx) => allocateVm(rt, req, ctx),
    release: (allocation, ctx) => releaseVm(rt, allocation, ctx),
    status: (allocation, ctx) => vmStatus(rt, allocation, ctx),
    start: (allocation, ctx) => startVm(rt, allocation, ctx),
    stop: (allocation, ctx) => stopVm(rt, allocation, ctx),
    restart: (allocation, ctx) => restartVm(rt, allocation, ctx),
    reset: (allocation, mode, ctx) => resetVm(rt, allocation, mode, ctx),
    reconfigure: (allocation, change, ctx) => reconfigureVm(rt, allocation, change, ctx),
    attach: (allocation, device, ctx) => attachDevice(rt, allocation, device, ctx),
    detach: (allocation, deviceId, ctx) => detachDevice(rt, allocation, deviceId, ctx),
    inventory: (ctx) => inventoryVms(rt, ctx),
    watch: (ctx) => watchVms(rt, ctx),
    close: () => rt.sessions.closeAll(),
  });
}
