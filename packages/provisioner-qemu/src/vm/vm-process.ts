/**
 * The QEMU process of a VM, outside the server's life: spawned detached (its own process
 * group, stdio to a file, unref'd), so a server restart or `kill -9` of the server leaves it
 * running, and found again later by pid, checked against its command line so a recycled pid
 * is never mistaken for (or killed as) our VM.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { errorMessage, SlipwayError, sleep } from '@slipway/core';

export interface SpawnedQemu {
  pid: number;
  /** Resolves with the exit code or signal when it exits while this process watches it. */
  exited: Promise<string>;
}

/** Spawn QEMU detached; stdout and stderr go to `logPath`. Rejects when the binary cannot start. */
export async function spawnQemu(binary: string, args: string[], logPath: string): Promise<SpawnedQemu> {
  const log = openSync(logPath, 'a', 0o600);
  try {
    const child = spawn(binary, args, { detached: true, stdio: ['ignore', log, log] });
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`));
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) =>
        reject(new SlipwayError('PROVISIONER_FAILED', `cannot start ${binary}: ${errorMessage(error)}`)),
      );
    });
    child.unref();
    if (child.pid === undefined) throw new SlipwayError('PROVISIONER_FAILED', `${binary} started without a pid`);
    return { pid: child.pid, exited };
  } finally {
    closeSync(log);
  }
}

/**
 * Whether `pid` is alive and is the QEMU of the VM in `dir` (its command line names the dir).
 * Where /proc is missing, a plain signal-0 probe.
 */
export function isQemuAlive(pid: number, dir: string): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false; // ESRCH, or EPERM (someone else's process): not our QEMU either way
  }
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return process.platform !== 'linux';
  }
  // A zombie has an empty command line: it has exited.
  return cmdline.includes(`${dir}/`);
}

/** SIGKILL the process group (QEMU is its leader), falling back to the pid. */
export function killQemu(pid: number, dir: string): void {
  if (!isQemuAlive(pid, dir)) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** Wait until the process is gone; false when it still runs after `timeoutMs`. */
export async function waitForExit(pid: number, dir: string, timeoutMs: number, signal?: AbortSignal) {
  const deadline = Date.now() + timeoutMs;
  while (isQemuAlive(pid, dir)) {
    if (Date.now() >= deadline) return false;
    await sleep(25, signal);
  }
  return true;
}

/** The pid QEMU wrote to its -pidfile, if any. */
export function readPidfile(path: string): number {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
}

/** The last lines QEMU printed (its own errors), for a failure message. */
export function qemuLogTail(path: string, lines = 3): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}
