/**
 * The tiny test guest (scripts/ci-build-guest.sh → .cache/test-guest, or SLIPWAY_TEST_GUEST_DIR)
 * and what the provisioner tests build around it: a state dir, an empty base image, a config.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '@slipway/core';
import type { QemuProvisionerConfigInput } from '../../src/index.js';
import { qemuMissingReason } from './qemu-process.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const GUEST_DIR = process.env.SLIPWAY_TEST_GUEST_DIR || join(repoRoot, '.cache/test-guest');

/** Why the VM tests cannot run here (for a skip message, or a failure under CI=true). */
export function vmTestsMissingReason(): string | undefined {
  const qemu = qemuMissingReason();
  if (qemu) return qemu;
  for (const tool of ['qemu-img', 'cloud-localds']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      return `${tool} not found; run scripts/ci-install-qemu.sh`;
    }
  }
  for (const file of ['vmlinux', 'initramfs.cpio.gz']) {
    if (!existsSync(join(GUEST_DIR, file))) return `${join(GUEST_DIR, file)} missing; run scripts/ci-build-guest.sh`;
  }
  return undefined;
}

export const mustRunVmTests = process.env.CI === 'true';

/** A fresh state dir (short: QMP socket paths must stay under 108 bytes) with an empty base image. */
export function vmTestDirs(): { root: string; stateDir: string; base: string } {
  const root = mkdtempSync(join(tmpdir(), 'sw-qemu-'));
  const base = join(root, 'base.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '1G']);
  return { root, stateDir: join(root, 'vms'), base };
}

export function testConfig(
  dirs: { stateDir: string; base: string },
  overrides: Partial<QemuProvisionerConfigInput> = {},
): QemuProvisionerConfigInput {
  return {
    stateDir: dirs.stateDir,
    host: { name: 'test-host', capacity: { vcpu: 8, memoryMb: 8192, diskGb: 100 } },
    hotplugPorts: 2,
    timeouts: { releaseShutdownMs: 1000, acpiShutdownMs: 10_000, detachMs: 5_000 },
    catalog: {
      images: {
        tiny: {
          path: dirs.base,
          kernel: join(GUEST_DIR, 'vmlinux'),
          initrd: join(GUEST_DIR, 'initramfs.cpio.gz'),
          append: 'console=ttyS0 panic=-1 quiet',
          osType: 'linux',
        },
      },
    },
    ...overrides,
  };
}

/** PIDs of processes whose command line mentions `dir` (our QEMUs). */
export function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

export const serialOf = (stateDir: string, vmId: string) => join(stateDir, vmId, 'serial.log');

export function readSerial(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Lines of the serial log that match, oldest first. */
export const serialLines = (path: string, pattern: RegExp) =>
  readSerial(path)
    .split(/\r?\n/)
    .filter((line) => pattern.test(line));

/** Wait until the serial log holds at least `count` lines matching `pattern`; returns them. */
export async function waitForSerial(path: string, pattern: RegExp, count = 1, timeoutMs = 60_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = serialLines(path, pattern);
    if (lines.length >= count) return lines;
    if (Date.now() > deadline) {
      throw new Error(
        `serial ${path}: ${lines.length}/${count} lines match ${pattern}:\n${readSerial(path).slice(-2000)}`,
      );
    }
    await sleep(50);
  }
}

/** Wait until the guest's latest `GUEST-DEVS` line matches `pattern` (its devices now). */
export async function waitForDevices(path: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = serialLines(path, /GUEST-DEVS/).at(-1) ?? '';
    if (pattern.test(last)) return last;
    if (Date.now() > deadline) throw new Error(`serial ${path}: last GUEST-DEVS ${JSON.stringify(last)} !~ ${pattern}`);
    await sleep(50);
  }
}
