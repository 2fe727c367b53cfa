/**
 * The objects the DigitalOcean fake answers with, shaped like the spec's models (the fake's
 * ajv check proves it): sizes from the provisioner's default catalog, regions, images,
 * droplets and actions, plus the error bodies and paging links the reference describes.
 */
import {
  DEFAULT_DIGITALOCEAN_IMAGES,
  DEFAULT_DIGITALOCEAN_REGIONS,
  DEFAULT_DIGITALOCEAN_SIZES,
  type DigitalOceanComponents,
} from '../../src/digitalocean/index.js';

type Schemas = DigitalOceanComponents['schemas'];
export type FakeDroplet = Schemas['droplet'];
export type FakeAction = Schemas['action'];

const REGIONS: readonly string[] = DEFAULT_DIGITALOCEAN_REGIONS;
type RegionSlug = Schemas['region_slug'];
const regionSlugs = REGIONS as RegionSlug[];

export const fakeSizes: Schemas['size'][] = DEFAULT_DIGITALOCEAN_SIZES.map((s) => ({
  slug: s.slug,
  memory: s.memoryMb,
  vcpus: s.vcpu,
  disk: s.diskGb,
  transfer: s.gpu ? 15 : 1,
  price_monthly: Math.round((s.creditsPerHour / 1000) * 672 * 100) / 100,
  price_hourly: s.creditsPerHour / 1000,
  regions: s.gpu ? ['nyc2', 'tor1'] : [...REGIONS],
  available: true,
  description: s.gpu ? 'GPU' : s.slug.startsWith('m-') ? 'Memory-Optimized' : 'Basic',
  ...(s.gpu
    ? { gpu_info: { count: s.gpu.count, model: s.gpu.model, vram: { amount: 80 * s.gpu.count, unit: 'gib' } } }
    : {}),
}));

export const fakeRegions: Schemas['region'][] = REGIONS.map((slug) => ({
  name: slug.toUpperCase(),
  slug,
  features: ['backups', 'ipv6', 'metadata', 'install_agent'],
  available: true,
  sizes: fakeSizes.filter((s) => s.regions.includes(slug)).map((s) => s.slug),
}));

export const fakeImages: Schemas['image'][] = DEFAULT_DIGITALOCEAN_IMAGES.map((slug, i) => ({
  id: 100_000 + i,
  name: slug,
  distribution: slug.startsWith('debian') ? 'Debian' : 'Ubuntu',
  slug,
  public: true,
  regions: regionSlugs,
  created_at: '2024-04-25T00:00:00Z',
  type: 'base',
  min_disk_size: 20,
  size_gigabytes: 2.5,
  description: slug,
  tags: [],
  status: 'available',
  error_message: '',
}));

const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function newDroplet(
  id: number,
  body: { name: string; size: string; image: string | number; region?: string; tags?: string[] | null },
  now: number,
): FakeDroplet {
  const size = fakeSizes.find((s) => s.slug === body.size)!;
  const region = fakeRegions.find((r) => r.slug === (body.region ?? 'nyc3'))!;
  const image = fakeImages.find((i) => i.slug === body.image || i.id === body.image)!;
  return {
    id,
    name: body.name,
    memory: size.memory,
    vcpus: size.vcpus,
    disk: size.disk,
    locked: false,
    status: 'new',
    created_at: at(now),
    features: [],
    backup_ids: [],
    next_backup_window: null,
    snapshot_ids: [],
    image,
    volume_ids: [],
    size,
    size_slug: size.slug,
    networks: { v4: [], v6: [] },
    region,
    tags: [...(body.tags ?? [])],
    vpc_uuid: '760e09ef-dc84-11e8-981e-3cfdfeaae000',
    ...(size.gpu_info ? { gpu_info: size.gpu_info } : {}),
  };
}

/** What a droplet gets when it becomes active: a public and a private v4 (the private one has the spec's "nil" gateway). */
export function networksFor(id: number): FakeDroplet['networks'] {
  const a = (id >> 8) & 255;
  const b = id & 255;
  return {
    v4: [
      { ip_address: `10.128.${a}.${b}`, netmask: '255.255.0.0', gateway: 'nil', type: 'private' },
      { ip_address: `203.0.${a}.${b}`, netmask: '255.255.255.0', gateway: `203.0.${a}.1`, type: 'public' },
    ],
    v6: [],
  };
}

export function newAction(id: number, type: string, droplet: FakeDroplet, now: number): FakeAction {
  return {
    id,
    status: 'in-progress',
    type,
    started_at: at(now),
    completed_at: null,
    resource_id: droplet.id,
    resource_type: 'droplet',
    region: droplet.region,
    region_slug: droplet.region.slug,
  };
}

export const completed = (action: FakeAction, now: number): FakeAction => ({
  ...action,
  status: 'completed',
  completed_at: at(now),
});

/** DigitalOcean's error body: `id` is the snake_case status name, `request_id` a uuid. */
export const errorBody = (id: string, message: string) => ({ id, message, request_id: crypto.randomUUID() });

export const MESSAGES = {
  unauthorized: 'Unable to authenticate you',
  notFound: 'The resource you requested could not be found.',
  rateLimited: 'API rate limit exceeded.',
  server: 'Unexpected server-side error',
  dropletLimit: 'creating this/these droplet(s) will exceed your droplet limit',
  pendingEvent: 'Droplet already has a pending event.',
  invalidSize: 'You specified an invalid size for Droplet creation.',
  invalidImage: 'You specified an invalid image for Droplet creation.',
  invalidRegion: 'You specified an invalid region for Droplet creation.',
  badRequest: 'error parsing request body',
} as const;

/** `links.pages` as DigitalOcean sends it: only the meaningful keys, full URLs. */
export function pageLinks(url: URL, page: number, perPage: number, total: number): Record<string, string> {
  const last = Math.max(1, Math.ceil(total / perPage));
  const to = (p: number) => {
    const u = new URL(url);
    u.searchParams.set('page', String(p));
    u.searchParams.set('per_page', String(perPage));
    return u.href;
  };
  return {
    ...(page > 1 ? { first: to(1), prev: to(page - 1) } : {}),
    ...(page < last ? { next: to(page + 1), last: to(last) } : {}),
  };
}
