/**
 * The plugin's QEMU command line, captured from a running VM, and bare QEMUs spawned on it (the
 * QEMU section's baselines); the section's cleanup. See bench/qemu.ts.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { bareAlive, spawnBare, untilGreeting, untilSerial } from './qemu-bare.js';

export const READY = /GUEST-READY/;
const DISKS = ['overlay.qcow2', 'seed.iso'];
const run = promisify(execFile);

/** The running QEMU's arguments, its directory as {dir} and SSH port as {ssh}; copies its disks to `template`. */
export async function captureMachineLine(vmDir: string, template: string): Promise<string[]> {
  const pid = readFileSync(join(vmDir, 'qemu.pid'), 'utf8').trim();
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(1, -1);
  await mkdir(template);
  for (const file of DISKS) await copyFile(join(vmDir, file), join(template, file));
  return argv.map((arg) => arg.replaceAll(vmDir, '{dir}').replace(/(hostfwd=tcp:[\d.]+:)\d+/, '$1{ssh}'));
}

/** Bare QEMUs on the captured line, each in a new directory under `root` with copies of the template's disks. */
export function bareFactory(root: string, template: string, line: readonly string[]) {
  let count = 0;
  const newDir = async () => {
    const dir = join(root, `bare-${++count}`);
    await mkdir(dir);
    return dir;
  };
  const boot = async (paused: boolean) => {
    const dir = await newDir();
    for (const file of DISKS) await copyFile(join(template, file), join(dir, file));
    const ssh = String(await freePort());
    const args = line
      .filter((arg) => paused || arg !== '-S')
      .map((arg) => arg.replaceAll('{dir}', dir).replace('{ssh}', ssh));
    const t0 = performance.now();
    return { vm: spawnBare(args), dir, t0 };
  };
  return {
    /** Spawn → greeting (paused) or spawn → GUEST-READY; then kill and remove it. */
    async time(greeting: boolean): Promise<number> {
      const { vm, dir, t0 } = await boot(greeting);
      try {
        if (greeting) await untilGreeting(join(dir, 'qmp.sock'), vm);
        else await untilSerial(join(dir, 'serial.log'), READY, bareAlive(vm));
        return performance.now() - t0;
      } finally {
        await vm.kill();
        await rm(dir, { recursive: true, force: true });
      }
    },
    /** A running bare guest (GUEST-READY seen); the caller kills it. */
    async boot() {
      const { vm, dir } = await boot(false);
      await untilSerial(join(dir, 'serial.log'), READY, bareAlive(vm));
      return { vm, dir };
    },
    /** The host programs the plugin's allocate runs before QEMU: image info, the overlay, the NoCloud seed. */
    async hostTools(base: string): Promise<number> {
      const dir = await newDir();
      try {
        const t0 = performance.now();
        await run('qemu-img', ['info', '--output=json', base]);
        await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, join(dir, 'o.qcow2'), '1G']);
        await writeFile(join(dir, 'meta-data'), 'instance-id: bench\nlocal-hostname: bench\n');
        await writeFile(join(dir, 'user-data'), '#cloud-config\nhostname: bench\n');
        await run('cloud-localds', [join(dir, 'seed.iso'), join(dir, 'user-data'), join(dir, 'meta-data')]);
        return performance.now() - t0;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** SIGKILL every process whose command line names `root` (twice: one may be starting), then remove it. */
export async function removeEverything(root: string): Promise<void> {
  for (let pass = 0; pass < 2; pass++) {
    for (const pid of processesUsing(root)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    await sleep(100);
  }
  await rm(root, { recursive: true, force: true });
}

function processesUsing(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}
