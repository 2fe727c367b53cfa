// The configuration schema, request options, SLIPWAY_QEMU_CONFIG, and the command line built
// from a record. No QEMU needed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { conformanceContext } from '@slipway/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  parseQemuConfig,
  QemuProvisionerConfigSchema,
  qemuOptionsSchema,
  qemuProvisioner,
  qemuProvisionerFromEnv,
} from '../src/index.js';
import { qemuArgs } from '../src/vm/qemu-args.js';
import { checkSize } from '../src/vm/vm-allocate.js';
import type { VmRecord } from '../src/vm/vm-record.js';

const docs = readFileSync(fileURLToPath(new URL('../../../docs/qemu-provisioner.md', import.meta.url)), 'utf8');
const docsExample = JSON.parse(/```json\n([\s\S]*?)```/.exec(docs)?.[1] ?? 'null');
const minimal = {
  stateDir: '/var/lib/slipway/qemu',
  host: { name: 'h1', capacity: { vcpu: 4, memoryMb: 4096, diskGb: 50 } },
  catalog: { images: { base: { path: '/images/base.qcow2' } } },
};
const tmp = mkdtempSync(join(tmpdir(), 'sw-qemu-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('QEMU provisioner configuration', () => {
  it('parses the example of docs/qemu-provisioner.md', () => {
    const config = QemuProvisionerConfigSchema.parse(docsExample);
    expect(config.catalog.defaultImage).toBe('debian-12');
    expect(Object.keys(config.catalog.sizes ?? {})).toEqual(['small', 'medium']);
  });

  it('fills in the defaults', () => {
    expect(parseQemuConfig(minimal)).toMatchObject({
      name: 'qemu',
      qemuBinary: 'qemu-system-x86_64',
      qemuImgBinary: 'qemu-img',
      cloudLocaldsBinary: 'cloud-localds',
      accel: 'tcg',
      machine: 'q35',
      hotplugPorts: 4,
      hotplug: 'acpi',
      sshBindAddress: '127.0.0.1',
      timeouts: { acpiShutdownMs: 30_000, releaseShutdownMs: 10_000, detachMs: 10_000 },
    });
  });

  it.each([
    [{ ...minimal, stateDir: 'relative' }, 'stateDir'],
    [{ ...minimal, stateDir: `/${'x'.repeat(60)}` }, 'stateDir'],
    [{ ...minimal, catalog: { images: {} } }, 'catalog.images'],
    [{ ...minimal, catalog: { ...minimal.catalog, defaultImage: 'nope' } }, 'catalog.defaultImage'],
    [{ ...minimal, catalog: { images: { base: { path: '/b', initrd: '/i' } } } }, 'catalog.images.base'],
    [{ ...minimal, accel: 'hvf' }, 'accel'],
    [{ ...minimal, surprise: true }, 'config'],
  ])('refuses a bad config, naming the field (%#)', (config, field) => {
    expect(() => qemuProvisioner(config as never)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    const error = (() => {
      try {
        parseQemuConfig(config);
      } catch (e) {
        return e as { details: { field: string } };
      }
    })();
    expect(error?.details.field).toBe(field);
  });

  it('SLIPWAY_QEMU_CONFIG: unset is no provisioner, a good file one, a bad one CONFIG_INVALID', () => {
    expect(qemuProvisionerFromEnv({})).toBeUndefined();
    const good = join(tmp, 'good.json');
    writeFileSync(good, JSON.stringify(docsExample));
    const p = qemuProvisionerFromEnv({ SLIPWAY_QEMU_CONFIG: good });
    expect(p?.name).toBe('qemu');
    expect(p?.host).toEqual({ name: 'host-a', capacity: { vcpu: 16, memoryMb: 65536, diskGb: 500 } });
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...docsExample, hotplugPorts: -1 }));
    expect(() => qemuProvisionerFromEnv({ SLIPWAY_QEMU_CONFIG: bad })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('hotplugPorts') }),
    );
    expect(() => qemuProvisionerFromEnv({ SLIPWAY_QEMU_CONFIG: join(tmp, 'missing.json') })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { variable: 'SLIPWAY_QEMU_CONFIG' } }),
    );
  });
});

describe('catalog', () => {
  it('lists image names with their osType (no paths) and the sizes, with their options fields', async () => {
    const catalog = await qemuProvisioner(docsExample).catalog(conformanceContext());
    expect(catalog).toEqual({
      imageOption: 'image',
      images: [
        { name: 'debian-12', description: 'debian-12', isDefault: true },
        { name: 'tiny', description: 'linux' },
      ],
      sizeOption: 'size',
      sizes: [
        { name: 'small', vcpu: 1, memoryMb: 1024, diskGb: 10 },
        { name: 'medium', vcpu: 2, memoryMb: 4096, diskGb: 40 },
      ],
      anySpec: false,
    });
    expect(JSON.stringify(catalog)).not.toContain('/var/lib');
    // Every name it lists passes the options field it names (what the conformance suite checks with QEMU).
    const schema = qemuOptionsSchema(parseQemuConfig(docsExample).catalog);
    for (const image of catalog.images) expect(schema.parse({ image: image.name })).toEqual({ image: image.name });
    for (const size of catalog.sizes) expect(schema.parse({ size: size.name })).toEqual({ size: size.name });
  });

  it('without sizes, takes any spec and names no size field', async () => {
    const catalog = await qemuProvisioner(minimal).catalog(conformanceContext());
    expect(catalog).toEqual({
      imageOption: 'image',
      images: [{ name: 'base', isDefault: true }],
      sizes: [],
      anySpec: true,
    });
  });
});

describe('request options', () => {
  const schema = qemuOptionsSchema(parseQemuConfig(docsExample).catalog);

  it('accepts catalog names, SSH keys and user data', () => {
    const options = { image: 'tiny', size: 'small', sshKeys: ['ssh-ed25519 AAAAC3Nza me@x'], userData: '#!/bin/sh\n' };
    expect(schema.parse(options)).toEqual(options);
  });

  it.each([
    [{ image: 'windows' }, 'image'],
    [{ size: 'huge' }, 'size'],
    [{ sshKeys: ['not a key'] }, 'sshKeys.0'],
    [{ extra: 1 }, ''],
  ])('refuses %j at %s', (options, path) => {
    const parsed = schema.safeParse(options);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path.join('.')).toBe(path);
  });

  it('with sizes, the spec must match one (the named one when given)', () => {
    const config = parseQemuConfig(docsExample);
    expect(() => checkSize(config, { spec: { vcpu: 2, memoryMb: 4096, diskGb: 40 } })).not.toThrow();
    expect(() => checkSize(config, { spec: { vcpu: 3, memoryMb: 4096 } })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'spec' } }),
    );
    expect(() =>
      checkSize(config, { spec: { vcpu: 2, memoryMb: 4096, diskGb: 40 }, options: { size: 'small' } }),
    ).toThrow(expect.objectContaining({ details: { field: 'options.size' } }));
    expect(() => checkSize(parseQemuConfig(minimal), { spec: { vcpu: 3, memoryMb: 777 } })).not.toThrow();
  });
});

describe('the QEMU command line', () => {
  const vm: VmRecord = {
    vmId: 'vm-r1',
    resourceId: 'r1',
    host: 'h1',
    dir: '/s/vm-r1',
    pid: 0,
    state: 'running',
    size: { vcpu: 1.5, memoryMb: 512 },
    diskGb: 10,
    image: 'base',
    ip: '127.0.0.1',
    sshPort: 2222,
    mac: '52:54:00:00:00:01',
    devices: [
      { id: 'd1', type: 'disk', state: 'attached', port: 'hp1', sizeGb: 1 },
      { id: 'n1', type: 'nic', state: 'detaching', port: 'hp2', mac: '52:54:00:00:00:02' },
    ],
    updatedAt: '',
  };

  it('starts paused, keeps the process on guest poweroff, and brings attached devices back', () => {
    const args = qemuArgs(vm, { path: '/b', kernel: '/k', append: 'quiet' }, parseQemuConfig(minimal), 'tcg').join(' ');
    expect(args).toContain('-S -no-shutdown');
    expect(args).not.toContain('-no-reboot');
    expect(args).toContain('-smp 2 -m 512M');
    expect(args).toContain('-qmp unix:/s/vm-r1/qmp.sock,server=on,wait=off');
    expect(args).toContain('-chardev file,id=serial0,path=/s/vm-r1/serial.log,append=on -serial chardev:serial0');
    expect(args).toContain('hostfwd=tcp:127.0.0.1:2222-:22');
    expect(args).toContain('media=cdrom,readonly=on');
    expect(args).toContain('pcie-root-port,id=hp4,bus=pcie.0,chassis=4,slot=4');
    expect(args).toContain('virtio-blk-pci,id=dev-d1,drive=nd-d1,bus=hp1');
    expect(args).not.toContain('dev-n1'); // a detaching device does not come back
    expect(args).not.toContain('acpi-pci-hotplug-with-bridge-support=off');
    expect(args).toContain('-kernel /k -append quiet');
  });
});
