/**
 * cloud-init user-data for a machine a provisioner builds: a cloud-config that sets the host
 * name and installs the request's SSH keys. The user's own user-data, when given, becomes a
 * second part of a MIME multipart document (cloud-init merges a second cloud-config over ours
 * and runs a script part), so neither document has to be edited. Shared by the QEMU seed ISO
 * and DigitalOcean's `user_data`; a plugin author may use it too.
 */
import { randomUUID } from 'node:crypto';

export function cloudInitUserData(input: { hostname: string; sshKeys: readonly string[]; userData?: string }): string {
  const keys = input.sshKeys.map((key) => `  - ${JSON.stringify(key)}`).join('\n');
  const ours = `#cloud-config\nhostname: ${input.hostname}\n${keys ? `ssh_authorized_keys:\n${keys}\n` : ''}`;
  return input.userData?.trim() ? multipart(ours, input.userData) : ours;
}

/** cloud-init's part types, by the first line of a user-data document. */
function partType(document: string): string {
  const prefixes: [string, string][] = [
    ['#cloud-config', 'text/cloud-config'],
    ['#!', 'text/x-shellscript'],
    ['#include', 'text/x-include-url'],
    ['#cloud-boothook', 'text/cloud-boothook'],
  ];
  return prefixes.find(([prefix]) => document.startsWith(prefix))?.[1] ?? 'text/plain';
}

function multipart(ours: string, theirs: string): string {
  const boundary = `==slipway-${randomUUID()}==`;
  const part = (type: string, body: string) =>
    `--${boundary}\nContent-Type: ${type}; charset="utf-8"\nMIME-Version: 1.0\n\n${body}${body.endsWith('\n') ? '' : '\n'}`;
  return [
    `Content-Type: multipart/mixed; boundary="${boundary}"\nMIME-Version: 1.0\n\n`,
    part('text/cloud-config', ours),
    part(partType(theirs), theirs),
    `--${boundary}--\n`,
  ].join('');
}
