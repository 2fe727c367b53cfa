// @slipway/provisioner-qemu public API: the QEMU provisioner and its QMP client (usable on its own).
export {
  defaultImageName,
  type QemuImage,
  QemuImageSchema,
  type QemuOptions,
  type QemuProvisionerConfig,
  type QemuProvisionerConfigInput,
  QemuProvisionerConfigSchema,
  type QemuSize,
  QemuSizeSchema,
  qemuOptionsSchema,
} from './config.js';
export { QEMU_CONFIG_VARIABLE, qemuProvisionerFromEnv } from './qemu-from-env.js';
export { parseQemuConfig, type QemuProvisioner, qemuProvisioner } from './qemu-provisioner.js';
export * from './qmp/index.js';
