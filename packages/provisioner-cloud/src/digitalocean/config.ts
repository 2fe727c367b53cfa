/**
 * The DigitalOcean provisioner's configuration and catalog, and the `options` a create request
 * may carry. Only `token` is required: the built-in catalog covers the common sizes.
 */
import { type ResourceSpec, SlipwayError } from '@slipway/core';
import { z } from 'zod';

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a lowercase slug');

export const DigitalOceanSizeSchema = z
  .object({
    slug,
    vcpu: z.number().int().positive(),
    memoryMb: z.number().int().positive(),
    diskGb: z.number().int().positive(),
    /** What Slipway charges per started hour, in integer credits. */
    creditsPerHour: z.number().int().positive(),
    gpu: z
      .object({ count: z.number().int().positive(), model: z.string().min(1) })
      .strict()
      .optional(),
    /** The image this size boots when the request names none (GPU sizes need a GPU image). */
    image: z.string().min(1).optional(),
  })
  .strict();
export type DigitalOceanSize = z.output<typeof DigitalOceanSizeSchema>;

/**
 * The default catalog: slugs and shapes from the DigitalOcean size list; credits at 1 credit =
 * US$0.001, rounded up from the public hourly list price. Operators price their own.
 * GPU sizes are never picked from a spec alone: a request names them in `options.size`.
 */
export const DEFAULT_DIGITALOCEAN_SIZES: readonly DigitalOceanSize[] = [
  { slug: 's-1vcpu-1gb', vcpu: 1, memoryMb: 1024, diskGb: 25, creditsPerHour: 8 },
  { slug: 's-1vcpu-2gb', vcpu: 1, memoryMb: 2048, diskGb: 50, creditsPerHour: 18 },
  { slug: 's-2vcpu-2gb', vcpu: 2, memoryMb: 2048, diskGb: 60, creditsPerHour: 27 },
  { slug: 's-2vcpu-4gb', vcpu: 2, memoryMb: 4096, diskGb: 80, creditsPerHour: 36 },
  { slug: 's-4vcpu-8gb', vcpu: 4, memoryMb: 8192, diskGb: 160, creditsPerHour: 72 },
  { slug: 'm-1vcpu-8gb', vcpu: 1, memoryMb: 8192, diskGb: 40, creditsPerHour: 63 },
  { slug: 's-8vcpu-32gb', vcpu: 8, memoryMb: 32768, diskGb: 640, creditsPerHour: 286 },
  {
    slug: 'gpu-h100x1-80gb',
    vcpu: 20,
    memoryMb: 245760,
    diskGb: 720,
    creditsPerHour: 6740,
    gpu: { count: 1, model: 'nvidia_h100' },
    image: 'gpu-h100x1-base',
  },
  {
    slug: 'gpu-h100x8-640gb',
    vcpu: 160,
    memoryMb: 1966080,
    diskGb: 2046,
    creditsPerHour: 47600,
    gpu: { count: 8, model: 'nvidia_h100' },
    image: 'gpu-h100x8-base',
  },
];

export const DEFAULT_DIGITALOCEAN_REGIONS = [
  'nyc1',
  'nyc3',
  'sfo2',
  'sfo3',
  'ams3',
  'fra1',
  'lon1',
  'sgp1',
  'tor1',
  'blr1',
  'syd1',
] as const;
export const DEFAULT_DIGITALOCEAN_IMAGES = [
  'ubuntu-24-04-x64',
  'ubuntu-22-04-x64',
  'debian-12-x64',
  'gpu-h100x1-base',
  'gpu-h100x8-base',
] as const;

const ms = (fallback: number) => z.number().int().positive().default(fallback);

export const DigitalOceanConfigSchema = z
  .object({
    /** A personal access token (dop_v1_...). Never logged, never in an error. */
    token: z.string().min(1),
    baseUrl: z.url().default('https://api.digitalocean.com'),
    /**
     * Starts every tag Slipway puts on a droplet: `<prefix>resource:<id>`, `<prefix>request:<id>`,
     * and the prefix without its final separator (`slipway`) on all of them, which inventory
     * lists. Two Slipway installations on one account need different prefixes.
     */
    tagPrefix: z
      .string()
      .max(40)
      .regex(/^[a-z0-9][a-z0-9:_-]*[:_-]$/, 'lowercase letters, digits, : _ -, ending in : _ or -')
      .default('slipway-'),
    sizes: z
      .array(DigitalOceanSizeSchema)
      .min(1)
      .default([...DEFAULT_DIGITALOCEAN_SIZES]),
    regions: z
      .array(slug)
      .min(1)
      .default([...DEFAULT_DIGITALOCEAN_REGIONS]),
    images: z
      .array(z.string().min(1))
      .min(1)
      .default([...DEFAULT_DIGITALOCEAN_IMAGES]),
    defaults: z
      .object({ region: slug.default('nyc3'), image: z.string().min(1).default('ubuntu-24-04-x64') })
      .strict()
      .prefault({}),
    deadlines: z
      .object({
        /** From create (or power-on) until the droplet is `active`. */
        activeMs: ms(10 * 60_000),
        /** A graceful `shutdown` gets this long to reach `off` before a `power_off`. */
        shutdownMs: ms(60_000),
        /** Longest wait for one droplet action to complete. */
        actionMs: ms(5 * 60_000),
        /** Pause between two polls of a droplet or an action. */
        pollIntervalMs: ms(5_000),
      })
      .strict()
      .prefault({}),
    /** The retry/breaker/time-out policy of every API call (src/shared/provider-policy.ts). */
    policy: z
      .object({
        maxAttempts: z.number().int().min(1).max(20).optional(),
        initialDelayMs: z.number().int().nonnegative().optional(),
        maxDelayMs: z.number().int().nonnegative().optional(),
        requestTimeoutMs: z.number().int().positive().optional(),
        breakerThreshold: z.number().int().positive().optional(),
        breakerHalfOpenAfterMs: z.number().int().positive().optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const slugs = config.sizes.map((s) => s.slug);
    if (new Set(slugs).size !== slugs.length)
      ctx.addIssue({ code: 'custom', path: ['sizes'], message: 'duplicate slug' });
    if (!config.regions.includes(config.defaults.region)) {
      ctx.addIssue({ code: 'custom', path: ['defaults', 'region'], message: 'not one of `regions`' });
    }
    if (!config.images.includes(config.defaults.image)) {
      ctx.addIssue({ code: 'custom', path: ['defaults', 'image'], message: 'not one of `images`' });
    }
  });

export type DigitalOceanConfigInput = z.input<typeof DigitalOceanConfigSchema>;
export type DigitalOceanConfig = z.output<typeof DigitalOceanConfigSchema>;

/** Parse a configuration; a bad one is CONFIG_INVALID naming the field (never echoing the token). */
export function parseDigitalOceanConfig(input: DigitalOceanConfigInput): DigitalOceanConfig {
  const parsed = DigitalOceanConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') || 'config';
  throw new SlipwayError('CONFIG_INVALID', `digitalocean config: ${field}: ${issue?.message ?? 'invalid'}`, {
    details: { field },
  });
}

const SSH_KEY = /^(ssh-|ecdsa-|sk-)[a-z0-9@.-]+ [A-Za-z0-9+/=]+( [^\n]*)?$/;

/**
 * A create request's `options`, checked against the catalog. `sshKeys` and `userData` are the
 * same options the QEMU provisioner reads, so a request works on either.
 */
export function digitalOceanOptionsSchema(config: DigitalOceanConfig) {
  const oneOf = (what: string, values: readonly string[]) =>
    z
      .string()
      .refine((v) => values.includes(v), { message: `unknown ${what}; one of: ${values.join(', ')}` })
      .optional();
  return z
    .object({
      size: oneOf(
        'size',
        config.sizes.map((s) => s.slug),
      ),
      region: oneOf('region', config.regions),
      image: oneOf('image', config.images),
      sshKeys: z
        .array(
          z
            .string()
            .max(16 * 1024)
            .regex(SSH_KEY, 'not an SSH public key'),
        )
        .max(32)
        .optional(),
      userData: z
        .string()
        .max(48 * 1024)
        .optional(),
    })
    .strict()
    .superRefine((o, ctx) => {
      // DigitalOcean takes at most 64 KiB of user_data; keep room for the cloud-init around them.
      const bytes =
        Buffer.byteLength(o.userData ?? '') + (o.sshKeys ?? []).reduce((n, k) => n + Buffer.byteLength(k) + 8, 0);
      if (bytes > USER_DATA_BUDGET) {
        ctx.addIssue({
          code: 'custom',
          path: ['userData'],
          message: `userData and sshKeys together take ${bytes} bytes; DigitalOcean's user data holds ${USER_DATA_BUDGET} here`,
        });
      }
    });
}

/** Bytes of user data and SSH keys a request may bring: 64 KiB less room for the bootstrap around them. */
const USER_DATA_BUDGET = 60 * 1024;
export type DigitalOceanOptions = z.output<ReturnType<typeof digitalOceanOptionsSchema>>;

/**
 * The size a request gets: the one it names, else the cheapest non-GPU size with at least the
 * spec's vCPU, memory and disk. None fits → CAPACITY_EXHAUSTED (no droplet could ever hold it).
 */
export function chooseSize(config: DigitalOceanConfig, spec: ResourceSpec, options: DigitalOceanOptions) {
  if (options.size) {
    const named = config.sizes.find((s) => s.slug === options.size);
    if (named) return named;
  }
  const fits = config.sizes
    .filter((s) => !s.gpu && s.vcpu >= spec.vcpu && s.memoryMb >= spec.memoryMb && s.diskGb >= spec.diskGb)
    .sort((a, b) => a.creditsPerHour - b.creditsPerHour || a.memoryMb - b.memoryMb);
  const size = fits[0];
  if (size) return size;
  const wanted = `${spec.vcpu} vCPU, ${spec.memoryMb} MB RAM, ${spec.diskGb} GB disk`;
  throw new SlipwayError('CAPACITY_EXHAUSTED', `no DigitalOcean size in the catalog has at least ${wanted}`, {
    details: { provider: 'digitalocean', requested: { ...spec }, reason: 'no-size-fits' },
  });
}

/** What a request boots with: its options, else the size's image and the configured defaults. */
export function placement(config: DigitalOceanConfig, spec: ResourceSpec, options: DigitalOceanOptions) {
  const size = chooseSize(config, spec, options);
  return {
    size,
    region: options.region ?? config.defaults.region,
    image: options.image ?? size.image ?? config.defaults.image,
  };
}
