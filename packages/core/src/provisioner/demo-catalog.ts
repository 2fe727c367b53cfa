/**
 * The demo provisioner's small fixed catalog: a few images and sizes a client can offer as
 * lists. The names are only checked (`options.image`, `options.size`); a demo machine is the
 * same whatever it is given, and any other vCPU/RAM/disk is fine too.
 */
import type { Catalog } from './capabilities.js';

export const DEMO_CATALOG: Catalog = {
  imageOption: 'image',
  images: [
    { name: 'debian-12', description: 'Debian 12 (bookworm)', isDefault: true },
    { name: 'ubuntu-24.04', description: 'Ubuntu 24.04 LTS' },
    { name: 'alpine-3.20', description: 'Alpine Linux 3.20' },
  ],
  sizeOption: 'size',
  sizes: [
    { name: 'small', vcpu: 1, memoryMb: 1024, diskGb: 10 },
    { name: 'medium', vcpu: 2, memoryMb: 2048, diskGb: 20 },
    { name: 'large', vcpu: 4, memoryMb: 8192, diskGb: 40 },
    {
      name: 'gpu-small',
      description: 'a pretend GPU machine',
      vcpu: 4,
      memoryMb: 16384,
      diskGb: 50,
      gpu: { count: 1, model: 'demo-gpu', memoryGb: 16 },
    },
  ],
  anySpec: true,
};

export const DEMO_IMAGE_NAMES = DEMO_CATALOG.images.map((i) => i.name);
export const DEMO_SIZE_NAMES = DEMO_CATALOG.sizes.map((s) => s.name);
