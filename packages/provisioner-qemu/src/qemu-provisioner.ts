/**
 * `qemuProvisioner(config)`: QEMU VMs on this replica's host, driven over QMP. The VMs live in
 * `ctx.store` (records) and in their own processes (which outlive the server); this object only
 * holds the QMP sessions and per-VM locks of the running process.
 */
import {
  defineProvisioner,
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
  qemuOptionsSchema,
} from './config.js';
import { allocateVm } from './vm/vm-allocate.js';
import { releaseVm, vmStatus } from './vm/vm-release-status.js';
import { createRuntime } from './vm/vm-runtime.js';

export type QemuProvisioner = Provisioner<QemuOptions> &
  ValidatesOptions<QemuOptions> & {
    /** The parsed configuration (defaults filled in). */
    readonly config: QemuProvisionerConfig;
    /** The accelerator VMs get (`auto` resolved). */
    readonly accel: 'tcg' | 'kvm';
    /** Close the QMP sessions of this instance; the VMs keep running. */
    close(): Promise<void>;
  };

export function qemuProvisioner(input: QemuProvisionerConfigInput): QemuProvisioner {
  const parsed = QemuProvisionerConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'config';
    throw new SlipwayError('VALIDATION_FAILED', `qemu provisioner config: ${field}: ${issue?.message ?? 'invalid'}`, {
      details: { field },
    });
  }
  const config = parsed.data;
  const rt = createRuntime(config);

  return defineProvisioner<QemuOptions, QemuProvisioner>({
    name: config.name,
    isDemo: false,
    config,
    accel: rt.accel,
    optionsSchema: qemuOptionsSchema(config.catalog),
    allocate: (req, ctx) => allocateVm(rt, req, ctx),
    release: (allocation, ctx) => releaseVm(rt, allocation, ctx),
    status: (allocation, ctx) => vmStatus(rt, allocation, ctx),
    close: () => rt.sessions.closeAll(),
  });
}

// Capabilities still to come in this file's later steps.
export type QemuCapabilities = PowerControl & Reconfigurable & Hotplug & Inventory & HostPlaced;
