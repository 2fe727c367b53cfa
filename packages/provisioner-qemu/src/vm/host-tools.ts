/**
 * The host programs a VM is built with: `qemu-img` (overlays, hot-plugged disks) and
 * `cloud-localds` (the NoCloud seed). Each runs with the caller's AbortSignal; a failure
 * carries the program's stderr, never the user's data.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cloudInitUserData, errorMessage, SlipwayError } from '@slipway/core';

export interface ToolBinaries {
  qemuImgBinary: string;
  cloudLocaldsBinary: string;
}

function run(binary: string, args: string[], signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { signal, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      if (signal.aborted) return reject(signal.reason);
      const why = stderr.trim() || errorMessage(error);
      reject(new SlipwayError('PROVISIONER_FAILED', `${binary} ${args[0] ?? ''} failed: ${why}`, { cause: error }));
    });
  });
}

/** Format and virtual size of an image (`qemu-img info`). */
export async function imageInfo(
  tools: ToolBinaries,
  path: string,
  signal: AbortSignal,
): Promise<{ format: string; virtualSize: number }> {
  const out = await run(tools.qemuImgBinary, ['info', '--output=json', path], signal);
  const info = JSON.parse(out) as { format?: unknown; 'virtual-size'?: unknown };
  if (typeof info.format !== 'string' || typeof info['virtual-size'] !== 'number') {
    throw new SlipwayError('PROVISIONER_FAILED', `qemu-img info ${path}: unexpected output`);
  }
  return { format: info.format, virtualSize: info['virtual-size'] };
}

/** A qcow2 overlay on `base` (never written to); `sizeGb` 0 keeps the base's size. */
export async function createOverlay(
  tools: ToolBinaries,
  opts: { base: string; baseFormat: string; overlay: string; sizeGb: number },
  signal: AbortSignal,
): Promise<void> {
  const args = ['create', '-q', '-f', 'qcow2', '-F', opts.baseFormat, '-b', opts.base, opts.overlay];
  if (opts.sizeGb > 0) args.push(`${opts.sizeGb}G`);
  await run(tools.qemuImgBinary, args, signal);
}

/** An empty qcow2 (a hot-plugged disk). */
export async function createDisk(tools: ToolBinaries, path: string, sizeGb: number, signal: AbortSignal) {
  await run(tools.qemuImgBinary, ['create', '-q', '-f', 'qcow2', path, `${sizeGb}G`], signal);
}

export interface SeedInput {
  instanceId: string;
  hostname: string;
  sshKeys: readonly string[];
  /** The user's own user-data (`#cloud-config`, a `#!` script, ...). */
  userData?: string;
}

/**
 * The NoCloud seed ISO (volume `cidata`): meta-data with instance-id and hostname, user-data
 * with the SSH keys. The user's own user-data becomes a second part of a MIME multipart
 * user-data (cloud-init merges a second cloud-config over ours and runs a script part), so
 * neither document has to be edited.
 */
export async function createSeed(tools: ToolBinaries, dir: string, seed: SeedInput, signal: AbortSignal) {
  const metaData = `instance-id: ${seed.instanceId}\nlocal-hostname: ${seed.hostname}\n`;
  const userData = cloudInitUserData(seed);
  await writeFile(join(dir, 'meta-data'), metaData, { mode: 0o600 });
  await writeFile(join(dir, 'user-data'), userData, { mode: 0o600 });
  await run(tools.cloudLocaldsBinary, [join(dir, 'seed.iso'), join(dir, 'user-data'), join(dir, 'meta-data')], signal);
}
