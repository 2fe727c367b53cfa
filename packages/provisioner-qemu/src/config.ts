/**
 * The QEMU provisioner's configuration: where VMs live, which binaries run them, this host's
 * capacity, and the catalog of images and sizes users may ask for. Everything a VM is built
 * from comes from here, never from code.
 */
import { isAbsolute } from 'node:path';
import { type Catalog, PROVISIONER_NAME } from '@slipway/core';
import { z } from 'zod';

const catalogName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'catalog names are 1-63 of [a-z0-9._-]');
const absolutePath = z.string().refine(isAbsolute, 'must be an absolute path');

export const QemuImageSchema = z
  .object({
    /** Base disk image (qcow2 or raw); every VM gets a qcow2 overlay on it, the base is never written. */
    path: absolutePath,
    /** Format of `path`. Default: what `qemu-img info` says. */
    format: z.enum(['qcow2', 'raw']).optional(),
    /** Direct kernel boot (`-kernel`), e.g. a PVH vmlinux; without it the VM boots from its disk. */
    kernel: absolutePath.optional(),
    initrd: absolutePath.optional(),
    /** Kernel command line (`-append`). */
    append: z.string().max(4096).optional(),
    /** Free-form, shown to users (`linux`, `debian-12`). */
    osType: z.string().max(64).optional(),
  })
  .strict()
  .refine((image) => image.kernel !== undefined || (image.initrd === undefined && image.append === undefined), {
    message: 'initrd and append need a kernel',
  });

export const QemuSizeSchema = z
  .object({
    vcpu: z.number().int().min(1).max(255),
    memoryMb: z.number().int().min(64),
    diskGb: z.number().int().min(0),
  })
  .strict();

export const QemuCatalogSchema = z
  .object({
    images: z.record(catalogName, QemuImageSchema).refine((images) => Object.keys(images).length > 0, {
      message: 'at least one image',
    }),
    /** The image of a request that names none. Default: the first image. */
    defaultImage: catalogName.optional(),
    /**
     * Named shapes. When given, a VM's spec (and a resize) must match one of them; a request's
     * `size` option names the one its spec must match. Absent: any spec that fits the host.
     */
    sizes: z.record(catalogName, QemuSizeSchema).optional(),
  })
  .strict()
  .refine((c) => c.defaultImage === undefined || c.defaultImage in c.images, {
    message: 'defaultImage is not one of images',
    path: ['defaultImage'],
  });

export const QemuTimeoutsSchema = z
  .object({
    /** stop / soft reset: how long the guest gets to power off on the ACPI button before it is forced. */
    acpiShutdownMs: z.number().int().min(0).default(30_000),
    /** release: the same for a VM about to be deleted. */
    releaseShutdownMs: z.number().int().min(0).default(10_000),
    /** After `quit` (or SIGKILL), how long to wait for the process to exit. */
    exitMs: z.number().int().min(100).default(5_000),
    /** QMP handshake after a spawn or on re-attach. */
    qmpConnectMs: z.number().int().min(100).default(10_000),
    /** device_del → DEVICE_DELETED; past it a detach answers `pending` and finishes later. */
    detachMs: z.number().int().min(0).default(10_000),
  })
  .strict();

export const QemuProvisionerConfigSchema = z
  .object({
    /** Registry name. Default `qemu`. */
    name: z.string().regex(PROVISIONER_NAME).default('qemu'),
    /** Per-VM directories `<stateDir>/vm-<resourceId>` (disk overlay, seed, QMP socket, serial log). */
    stateDir: absolutePath.refine((dir) => dir.length <= 48, {
      message: 'at most 48 characters (a unix socket path inside it must stay under 108 bytes)',
    }),
    qemuBinary: z.string().min(1).default('qemu-system-x86_64'),
    qemuImgBinary: z.string().min(1).default('qemu-img'),
    cloudLocaldsBinary: z.string().min(1).default('cloud-localds'),
    /** `tcg` (default), `kvm`, or `auto` (kvm only when /dev/kvm is usable and not nested; see docs). */
    accel: z.enum(['tcg', 'kvm', 'auto']).default('tcg'),
    machine: z.literal('q35').default('q35'),
    /** Spare PCIe root ports, one per hot-plugged disk or NIC. */
    hotplugPorts: z.number().int().min(0).max(30).default(4),
    /** `acpi` (default: fast unplug with a guest) or `native` (pciehp: unplug works without a guest, ~6 s with one). */
    hotplug: z.enum(['acpi', 'native']).default('acpi'),
    /** This replica's host: its name and what placement may fill. */
    host: z
      .object({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/),
        capacity: z
          .object({
            vcpu: z.number().positive(),
            memoryMb: z.number().int().positive(),
            diskGb: z.number().int().min(0),
          })
          .strict(),
      })
      .strict(),
    /** Where the forwarded SSH ports listen. */
    sshBindAddress: z.ipv4().default('127.0.0.1'),
    timeouts: QemuTimeoutsSchema.default(() => QemuTimeoutsSchema.parse({})),
    catalog: QemuCatalogSchema,
  })
  .strict();

/** What `qemuProvisioner()` accepts (defaults optional). */
export type QemuProvisionerConfigInput = z.input<typeof QemuProvisionerConfigSchema>;
/** The parsed configuration, defaults filled in. */
export type QemuProvisionerConfig = z.output<typeof QemuProvisionerConfigSchema>;
export type QemuImage = z.output<typeof QemuImageSchema>;
export type QemuSize = z.output<typeof QemuSizeSchema>;

/** The image a request gets when it names none. */
export function defaultImageName(config: QemuProvisionerConfig): string {
  return config.catalog.defaultImage ?? Object.keys(config.catalog.images)[0] ?? '';
}

/** The `options` of a create request, checked against the catalog. */
export function qemuOptionsSchema(catalog: QemuProvisionerConfig['catalog']) {
  const images = Object.keys(catalog.images);
  const sizes = Object.keys(catalog.sizes ?? {});
  return z
    .object({
      image: z
        .string()
        .refine((name) => name in catalog.images, { message: `unknown image; one of: ${images.join(', ')}` })
        .optional(),
      sshKeys: z
        .array(z.string().regex(/^(ssh-|ecdsa-|sk-)[a-z0-9@.-]+ [A-Za-z0-9+/=]+( [^\n]*)?$/, 'not an SSH public key'))
        .max(32)
        .optional(),
      userData: z
        .string()
        .max(64 * 1024)
        .optional(),
      size: z
        .string()
        .refine((name) => sizes.includes(name), {
          message: sizes.length ? `unknown size; one of: ${sizes.join(', ')}` : 'this provisioner has no sizes',
        })
        .optional(),
    })
    .strict();
}

export type QemuOptions = z.output<ReturnType<typeof qemuOptionsSchema>>;

/**
 * The catalog as users may see it: image names with their `osType` (never a host path) and the
 * named sizes. Without sizes, any spec that fits the host is fine (`anySpec`).
 */
export function qemuCatalog(config: QemuProvisionerConfig): Catalog {
  const defaultImage = defaultImageName(config);
  const sizes = Object.entries(config.catalog.sizes ?? {});
  return {
    imageOption: 'image',
    images: Object.entries(config.catalog.images).map(([name, image]) => ({
      name,
      ...(image.osType ? { description: image.osType } : {}),
      ...(name === defaultImage ? { isDefault: true } : {}),
    })),
    ...(sizes.length ? { sizeOption: 'size' } : {}),
    sizes: sizes.map(([name, size]) => ({ name, vcpu: size.vcpu, memoryMb: size.memoryMb, diskGb: size.diskGb })),
    anySpec: sizes.length === 0,
  };
}
