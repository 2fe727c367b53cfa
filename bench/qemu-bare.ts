/**
 * The baselines of the QEMU section, with nothing of Slipway in between: QEMU spawned directly
 * on a given command line, the QMP greeting read off a plain socket, the serial log polled, and
 * a minimal hand-written QMP client (greeting, `qmp_capabilities`, id-matched replies, an event
 * list) that the raw hotplug sequence runs on. Deliberately not the package's QmpClient: the
 * baseline is what a bare socket costs, so the ratio includes the client as well.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export const QEMU = 'qemu-system-x86_64';
/** How often the serial log and the socket are probed; the same for Slipway's VMs and the bare ones. */
export const POLL_MS = 5;

export interface BareQemu {
  child: ChildProcess;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  stderrTail(): string;
}

export function spawnBare(args: readonly string[]): BareQemu {
  const child = spawn(QEMU, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  return {
    child,
    stderrTail: () => stderr.trim(),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

const gone = (vm: BareQemu) => vm.child.exitCode !== null || vm.child.signalCode !== null;

/** Poll the socket until QEMU listens, then read its greeting line; resolves at the greeting. */
export async function untilGreeting(path: string, vm: BareQemu, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (gone(vm)) throw new Error(`bare QEMU exited before its QMP greeting: ${vm.stderrTail()}`);
    const line = await firstLine(path).catch(() => undefined);
    if (line !== undefined) {
      if (!line.includes('"QMP"')) throw new Error(`unexpected QMP greeting: ${line}`);
      return;
    }
    if (performance.now() > deadline) throw new Error(`no QMP greeting on ${path} within ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

function firstLine(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffered = '';
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const end = buffered.indexOf('\n');
      if (end < 0) return;
      socket.destroy();
      resolve(buffered.slice(0, end));
    });
    socket.once('close', () => reject(new Error('closed before a line')));
  });
}

/** Poll a serial log until a line matches; `alive` aborts early when the VM died. */
export async function untilSerial(
  path: string,
  pattern: RegExp,
  alive: () => boolean = () => true,
  timeoutMs = 120_000,
): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const line = readLines(path).find((l) => pattern.test(l));
    if (line !== undefined) return line;
    if (!alive()) throw new Error(`the VM exited before ${pattern} on ${path}`);
    if (performance.now() > deadline) throw new Error(`no ${pattern} on ${path} within ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

/** Wait (not timed) until the guest's latest `GUEST-DEVS` line does or does not match. */
export async function untilDevices(path: string, pattern: RegExp, present: boolean, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const last = readLines(path).findLast((l) => l.includes('GUEST-DEVS')) ?? '';
    if (pattern.test(last) === present) return;
    if (performance.now() > deadline) throw new Error(`guest devices ${JSON.stringify(last)}: ${pattern} ≠ ${present}`);
    await sleep(POLL_MS);
  }
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split(/\r?\n/);
  } catch {
    return [];
  }
}

export const bareAlive = (vm: BareQemu) => () => !gone(vm);

interface QmpReply {
  id?: number;
  return?: unknown;
  error?: { class: string; desc: string };
  event?: string;
  data?: Record<string, unknown>;
}

/** About fifty lines of QMP: enough for the hotplug sequence, nothing more. */
export class RawQmp {
  readonly events: QmpReply[] = [];
  private readonly pending = new Map<number, (reply: QmpReply) => void>();
  private readonly eventWaiters = new Set<() => void>();
  private nextId = 1;

  private constructor(private readonly socket: Socket) {
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const message = JSON.parse(buffered.slice(0, end)) as QmpReply;
        buffered = buffered.slice(end + 1);
        if (message.event) {
          this.events.push(message);
          for (const wake of this.eventWaiters) wake();
        } else if (message.id !== undefined) {
          this.pending.get(message.id)?.(message);
          this.pending.delete(message.id);
        }
      }
    });
  }

  /** Connect, skip the greeting, negotiate capabilities. */
  static async open(path: string): Promise<RawQmp> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const qmp = new RawQmp(socket);
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) =>
        reply.error
          ? reject(new Error(`${command}: ${reply.error.class}: ${reply.error.desc}`))
          : resolve(reply.return),
      );
      this.socket.write(`${JSON.stringify({ execute: command, arguments: args, id })}\n`);
    });
  }

  /** The first event at index ≥ `since` that matches. */
  waitForEvent(since: number, match: (e: QmpReply) => boolean, timeoutMs = 30_000): Promise<QmpReply> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.slice(since).find(match);
        if (!found) return;
        this.eventWaiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.eventWaiters.delete(check);
        reject(new Error(`no matching QMP event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.eventWaiters.add(check);
      check();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
