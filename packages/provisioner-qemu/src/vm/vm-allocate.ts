/**
 * allocate: a qcow2 overlay on the image's base, a NoCloud seed, QEMU spawned paused and then
 * continued. Once per resource (allocationRecords): a retry finds the VM the first attempt
 * recorded, and a build that died half-way is cleaned up before the next one starts.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Allocation,
  type AllocationRequest,
  allocationRecords,
  type ProvisionContext,
  SlipwayError,
} from '@slipway/core';
import { defaultImageName, type QemuOptions, type QemuProvisionerConfig } from '../config.js';
import { createOverlay, createSeed, imageInfo } from './host-tools.js';
import { freePort, macFor } from './qemu-args.js';
import { bootVm } from './vm-lifecycle.js';
import { isQemuAlive, killQemu, readPidfile, waitForExit } from './vm-process.js';
import { deleteVm, putVm, readVm, type VmRecord, vmIdFor, vmPaths } from './vm-record.js';
import { quittingWhile, touch, type VmRuntime } from './vm-runtime.js';

const GiB = 1024 ** 3;

export async function allocateVm(
  rt: VmRuntime,
  req: AllocationRequest<QemuOptions>,
  ctx: ProvisionContext,
): Promise<Allocation> {
  touch(rt, ctx);
  const image = pickImage(rt.config, req);
  checkSize(rt.config, req);
  const records = allocationRecords(ctx.store);
  return records.once(
    req,
    ctx,
    (signal) => buildVm(rt, req, image, ctx, signal),
    (duplicate) => destroyVm(rt, ctx, duplicate.externalId),
  );
}

async function buildVm(
  rt: VmRuntime,
  req: AllocationRequest<QemuOptions>,
  imageName: string,
  ctx: ProvisionContext,
  signal: AbortSignal,
): Promise<Allocation> {
  const vmId = vmIdFor(req.resourceId);
  const build = (async () => {
    await destroyVm(rt, ctx, vmId); // whatever an earlier, interrupted attempt left
    signal.throwIfAborted();
    const dir = join(rt.config.stateDir, vmId);
    const vm: VmRecord = {
      vmId,
      resourceId: req.resourceId,
      host: rt.config.host.name,
      dir,
      pid: 0,
      state: 'building',
      size: { vcpu: req.spec.vcpu, memoryMb: req.spec.memoryMb },
      diskGb: req.spec.diskGb,
      image: imageName,
      ip: rt.config.sshBindAddress,
      sshPort: await freePort(rt.config.sshBindAddress),
      mac: macFor(vmId, 'nic0'),
      devices: [],
      updatedAt: new Date().toISOString(),
    };
    await putVm(ctx.store, vm); // first, so release finds what the steps below leave
    try {
      await prepareDisks(rt, req, vm, signal);
      signal.throwIfAborted();
      const running = await bootVm(rt, ctx.store, vm, signal);
      ctx.events.emit({ action: 'qemu.vm_started', data: { vmId, host: vm.host, pid: running.pid } });
      return {
        resourceId: req.resourceId,
        externalId: vmId,
        ip: running.ip,
        sshPort: running.sshPort,
        state: 'running',
        data: { host: vm.host },
      } satisfies Allocation;
    } catch (error) {
      await destroyVm(rt, ctx, vmId);
      throw error;
    }
  })();
  rt.builds.set(vmId, build);
  try {
    return await build;
  } finally {
    if (rt.builds.get(vmId) === build) rt.builds.delete(vmId);
  }
}

async function prepareDisks(rt: VmRuntime, req: AllocationRequest<QemuOptions>, vm: VmRecord, signal: AbortSignal) {
  const image = rt.config.catalog.images[vm.image];
  if (!image) throw new SlipwayError('PROVISIONER_FAILED', `image ${vm.image} is not in the catalog`);
  const paths = vmPaths(vm.dir);
  await mkdir(vm.dir, { recursive: true, mode: 0o700 });
  const info = await imageInfo(rt.config, image.path, signal);
  if (req.spec.diskGb > 0 && req.spec.diskGb * GiB < info.virtualSize) {
    throw new SlipwayError(
      'VALIDATION_FAILED',
      `spec.diskGb: image ${vm.image} needs at least ${Math.ceil(info.virtualSize / GiB)} GB`,
      { details: { field: 'spec.diskGb' } },
    );
  }
  const baseFormat = image.format ?? info.format;
  await createOverlay(rt.config, { base: image.path, baseFormat, overlay: paths.overlay, sizeGb: vm.diskGb }, signal);
  await createSeed(
    rt.config,
    vm.dir,
    {
      instanceId: vm.vmId,
      hostname: hostnameFor(req.name, vm.vmId),
      sshKeys: req.options.sshKeys ?? [],
      ...(req.options.userData === undefined ? {} : { userData: req.options.userData }),
    },
    signal,
  );
}

/** Kill and remove whatever exists of `vmId` on this host (process, directory, record). */
export async function destroyVm(rt: VmRuntime, ctx: Pick<ProvisionContext, 'store'>, vmId: string): Promise<void> {
  const vm = await readVm(ctx.store, vmId);
  const dir = vm?.dir ?? join(rt.config.stateDir, vmId);
  const pid = vm?.pid || readPidfile(vmPaths(dir).pidfile);
  await quittingWhile(rt, vmId, async () => {
    await rt.sessions.drop(vmId);
    if (isQemuAlive(pid, dir)) {
      killQemu(pid, dir);
      await waitForExit(pid, dir, rt.config.timeouts.exitMs);
    }
  });
  await rm(dir, { recursive: true, force: true });
  if (vm) await deleteVm(ctx.store, vmId);
}

function pickImage(config: QemuProvisionerConfig, req: AllocationRequest<QemuOptions>): string {
  const name = req.options.image ?? req.spec.image ?? defaultImageName(config);
  if (!(name in config.catalog.images)) {
    const field = req.options.image ? 'options.image' : 'spec.image';
    throw new SlipwayError('VALIDATION_FAILED', `${field}: unknown image ${JSON.stringify(name)}`, {
      details: { field },
    });
  }
  return name;
}

/** With sizes in the catalog, the spec must be one of them (the one `options.size` names, if given). */
export function checkSize(
  config: QemuProvisionerConfig,
  req: { spec: { vcpu: number; memoryMb: number; diskGb?: number }; options?: { size?: string } },
): void {
  const sizes = config.catalog.sizes;
  if (!sizes) return;
  const fits = ([, s]: [string, { vcpu: number; memoryMb: number; diskGb: number }]) =>
    s.vcpu === req.spec.vcpu &&
    s.memoryMb === req.spec.memoryMb &&
    (req.spec.diskGb === undefined || s.diskGb === req.spec.diskGb);
  const named = req.options?.size;
  const candidates = Object.entries(sizes).filter(([name]) => named === undefined || name === named);
  if (candidates.some(fits)) return;
  const field = named === undefined ? 'spec' : 'options.size';
  const shapes = candidates.map(([name, s]) => `${name} (${s.vcpu} vCPU, ${s.memoryMb} MB, ${s.diskGb} GB)`);
  throw new SlipwayError(
    'VALIDATION_FAILED',
    `${field}: the spec must match a size of the catalog: ${shapes.join(', ')}`,
    {
      details: { field },
    },
  );
}

function hostnameFor(name: string, vmId: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return cleaned || vmId.slice(0, 63);
}
