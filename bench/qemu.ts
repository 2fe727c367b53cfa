/**
 * The QEMU section: the plugin next to bare QEMU on this machine, in the same run.
 *
 * - allocate-to-ready: `RuntimeProvisioner.allocate` (the core's wrapper around the plugin, its
 *   store the SQL provisioner store on PGlite in a data directory, as `npm start` runs it, and
 *   the watcher running) until the guest prints GUEST-READY on serial. Baselines, spawned with
 *   the very command line the plugin's QEMU ran (read from /proc/<pid>/cmdline of a warm-up
 *   VM, its directory and SSH port swapped): A, spawn → QMP greeting (paused, `-S`, as the
 *   plugin starts it); B, spawn → GUEST-READY (without `-S`); C, the host programs allocate runs
 *   before QEMU (`qemu-img info`, the overlay, `cloud-localds`) on their own.
 * - attach/detach of a disk and a NIC: the plugin vs raw QMP on a bare guest (qemu-hotplug.ts).
 *
 * Kinds alternate run by run (and their order flips), so a neighbour's load weighs on all alike.
 * Everything lives under one temporary directory; the cleanup SIGKILLs every process whose
 * command line names it and removes it (also on Ctrl-C, through `onInterrupt`).
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import {
  type Allocation,
  openDatabase,
  RuntimeProvisioner,
  silentLogger,
  sqlProvisionerStore,
  systemClock,
} from '@slipway/core';
import { qemuProvisioner } from '@slipway/provisioner-qemu';
import { QEMU, RawQmp, untilSerial } from './qemu-bare.js';
import { type DeviceKind, type HotplugTimes, pluginTarget, rawTarget } from './qemu-hotplug.js';
import { bareFactory, captureMachineLine, READY, removeEverything } from './qemu-machine.js';

export interface QemuSection {
  runs: number;
  qemuVersion: string;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  /** The plugin's QEMU arguments ({dir} = the VM directory, {ssh} = the forwarded port). */
  machineLine: string[];
  allocate: { returnedMs: number[]; readyMs: number[]; releaseMs: number[] };
  bare: { greetingMs: number[]; readyMs: number[]; hostToolsMs: number[] };
  hotplug: Record<DeviceKind, { plugin: HotplugTimes; raw: HotplugTimes }>;
}

export interface QemuBenchOptions {
  guestDir: string;
  runs: number;
  progress: (line: string) => void;
  /** Registers a cleanup for Ctrl-C; returns its removal. */
  onInterrupt: (cleanup: () => Promise<void>) => () => void;
  loadavg: () => number[];
}

const SPEC = { vcpu: 1, memoryMb: 256, diskGb: 1 };
const NO_EVENTS = { events: { emit: () => {} } };
const run = promisify(execFile);

export const defaultGuestDir = (root: string) => process.env.SLIPWAY_TEST_GUEST_DIR || join(root, '.cache/test-guest');

/** Why the section cannot run here, or undefined. */
export function qemuMissing(guestDir: string): string | undefined {
  for (const tool of [QEMU, 'qemu-img', 'cloud-localds']) {
    if (spawnSync(tool, ['--version']).error) return `${tool} not found (scripts/ci-install-qemu.sh installs it)`;
  }
  for (const file of ['vmlinux', 'initramfs.cpio.gz']) {
    if (!existsSync(join(guestDir, file))) return `no test guest in ${guestDir} (run scripts/ci-build-guest.sh)`;
  }
  return undefined;
}

export async function benchQemu(opts: QemuBenchOptions): Promise<QemuSection> {
  const loadAverageBefore = opts.loadavg();
  const root = await mkdtemp(join(tmpdir(), 'sw-bench-qemu-'));
  const cleanup = () => removeEverything(root);
  const unregister = opts.onInterrupt(cleanup);
  const stateDir = join(root, 'vms');
  const base = join(root, 'base.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', base, '1G']);
  const storage = await openDatabase({ dataDir: join(root, 'pglite') });
  const plugin = qemuProvisioner({
    stateDir,
    host: { name: 'bench', capacity: { vcpu: 8, memoryMb: 8192, diskGb: 100 } },
    hotplugPorts: 2,
    timeouts: { releaseShutdownMs: 5_000, detachMs: 10_000 },
    catalog: {
      images: {
        tiny: {
          path: base,
          kernel: join(opts.guestDir, 'vmlinux'),
          initrd: join(opts.guestDir, 'initramfs.cpio.gz'),
          append: 'console=ttyS0 panic=-1 quiet',
        },
      },
    },
  });
  const runtime = new RuntimeProvisioner(plugin, {
    logger: silentLogger,
    clock: systemClock,
    store: sqlProvisionerStore(storage.db, plugin.name),
    jobs: { enqueue: async () => {} },
  });
  const watching = new AbortController();
  const watcher = await runtime.watch(async () => {}, watching.signal);
  const vm = (allocation: Allocation) => join(stateDir, allocation.externalId);
  const allocate = async () => {
    const resourceId = `bench-${randomUUID().slice(0, 8)}`;
    const request = {
      resourceId,
      requestId: resourceId,
      ownerId: 'bench',
      name: 'bench-vm',
      kind: 'vm' as const,
      spec: SPEC,
      options: runtime.parseOptions({}),
      labels: {},
      expiresAt: null,
    };
    const t0 = performance.now();
    const allocation = await runtime.allocate(request, NO_EVENTS);
    const returnedMs = performance.now() - t0;
    await untilSerial(join(vm(allocation), 'serial.log'), READY);
    return { allocation, returnedMs, readyMs: performance.now() - t0 };
  };
  const release = async (allocation: Allocation) => {
    const t0 = performance.now();
    await runtime.release(allocation, NO_EVENTS);
    return performance.now() - t0;
  };

  try {
    opts.progress('qemu: warm-up VM through the plugin (its command line is the baselines’)');
    const warm = await allocate();
    const template = join(root, 'template');
    const line = await captureMachineLine(vm(warm.allocation), template);
    await release(warm.allocation);
    const bare = bareFactory(root, template, line);

    const section: QemuSection = {
      runs: opts.runs,
      qemuVersion: execFileSync(QEMU, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '',
      loadAverageBefore,
      loadAverageAfter: [],
      machineLine: line,
      allocate: { returnedMs: [], readyMs: [], releaseMs: [] },
      bare: { greetingMs: [], readyMs: [], hostToolsMs: [] },
      hotplug: { disk: emptyPair(), nic: emptyPair() },
    };
    for (let i = 0; i < opts.runs; i++) {
      const steps = [
        async () => {
          const { allocation, returnedMs, readyMs } = await allocate();
          section.allocate.returnedMs.push(returnedMs);
          section.allocate.readyMs.push(readyMs);
          section.allocate.releaseMs.push(await release(allocation));
        },
        async () => section.bare.greetingMs.push(await bare.time(true)),
        async () => section.bare.readyMs.push(await bare.time(false)),
        async () => section.bare.hostToolsMs.push(await bare.hostTools(base)),
      ];
      for (const step of i % 2 ? steps.reverse() : steps) await step();
      opts.progress(
        `qemu allocate ${i + 1}/${opts.runs}: returned ${ms(section.allocate.returnedMs)}, ready ${ms(section.allocate.readyMs)}; ` +
          `bare greeting ${ms(section.bare.greetingMs)}, bare ready ${ms(section.bare.readyMs)}, ` +
          `host tools ${ms(section.bare.hostToolsMs)}`,
      );
    }

    opts.progress('qemu: one guest through the plugin, one bare, for attach/detach');
    const target = await allocate();
    const rawVm = await bare.boot();
    const qmp = await RawQmp.open(join(rawVm.dir, 'qmp.sock'));
    try {
      const plugin = pluginTarget(runtime, target.allocation, join(vm(target.allocation), 'serial.log'));
      const raw = rawTarget(qmp, rawVm.dir, join(rawVm.dir, 'serial.log'));
      for (let i = 0; i < opts.runs; i++) {
        for (const kind of ['disk', 'nic'] as const) {
          const times = section.hotplug[kind];
          const pair = [
            () => plugin.cycle(kind, `${kind}${i}`, times.plugin),
            () => raw.cycle(kind, `${kind}${i}`, times.raw),
          ];
          for (const step of i % 2 ? pair.reverse() : pair) await step();
        }
        const d = section.hotplug.disk;
        opts.progress(
          `qemu hotplug ${i + 1}/${opts.runs}: disk attach ${ms(d.plugin.attachMs)} vs ${ms(d.raw.attachMs)}, ` +
            `detach ${ms(d.plugin.detachMs)} vs ${ms(d.raw.detachMs)}`,
        );
      }
    } finally {
      qmp.close();
      await rawVm.vm.kill();
      await release(target.allocation);
    }
    section.loadAverageAfter = opts.loadavg();
    return section;
  } finally {
    watching.abort();
    await watcher.close();
    await plugin.close();
    await storage.close();
    unregister();
    await cleanup();
  }
}

const emptyPair = () => ({ plugin: { attachMs: [], detachMs: [] }, raw: { attachMs: [], detachMs: [] } });
const ms = (values: number[]) => `${Math.round(values.at(-1) ?? Number.NaN)} ms`;
