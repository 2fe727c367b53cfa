import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const QEMU_BINARY = 'qemu-system-x86_64';

/** Whether QEMU can run here; the reason when not (for a skip message or a CI failure). */
export function qemuMissingReason(): string | undefined {
  const probe = spawnSync(QEMU_BINARY, ['--version'], { encoding: 'utf8' });
  if (probe.error) return `${QEMU_BINARY} not found (${probe.error.message}); run scripts/ci-install-qemu.sh`;
  if (probe.status !== 0) return `${QEMU_BINARY} --version exited ${probe.status}: ${probe.stderr}`;
  return undefined;
}

export interface QemuUnderTest {
  dir: string;
  socketPath: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process is gone. */
  exited: Promise<number | string>;
  /** Create a qcow2 image in the VM's directory and return its path. */
  createDisk(name: string, size?: string): Promise<string>;
  /** SIGKILL (if still running) and wait for the exit; the directory stays. */
  kill(): Promise<void>;
  /** kill(), then remove the directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A q35 VM with no guest, paused (`-S`), QMP on a unix socket in a fresh temp dir, two spare PCIe
 * root ports (rp1, rp2) and native PCIe hotplug, so `device_del` completes without a guest
 * (qemu.md §3). TCG, because KVM here is nested and unusable (qemu.md §1).
 */
export function startQemu(options: { extraArgs?: string[]; dir?: string } = {}): QemuUnderTest {
  const { extraArgs = [], dir = mkdtempSync(join(tmpdir(), 'slipway-qmp-')) } = options;
  const socketPath = join(dir, 'qmp.sock');
  const args = [
    ...['-machine', 'q35', '-accel', 'tcg', '-nodefaults', '-display', 'none', '-S', '-m', '128'],
    ...['-qmp', `unix:${socketPath},server=on,wait=off`],
    ...['-global', 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off'],
    ...['-device', 'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1'],
    ...['-device', 'pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=2'],
    ...extraArgs,
  ];
  const child = spawn(QEMU_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.once('error', (error) => resolve(`spawn failed: ${error.message}`));
  });
  void exited.then((how) => {
    if (how !== 0 && how !== 'SIGKILL' && stderr.trim()) process.stderr.write(`qemu exited ${how}: ${stderr}\n`);
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  let stopped: Promise<void> | undefined;
  return {
    dir,
    socketPath,
    child,
    exited,
    async createDisk(name, size = '64M') {
      const path = join(dir, name);
      await promisify(execFile)('qemu-img', ['create', '-q', '-f', 'qcow2', path, size]);
      return path;
    },
    kill,
    stop() {
      stopped ??= (async () => {
        await kill();
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
