/**
 * The RunPod provisioner's configuration and catalog, and the `options` a create request may
 * carry. Only `apiKey` is required: the built-in catalog covers common GPU types.
 */
import { SlipwayError } from '@slipway/core';
import { z } from 'zod';

export const RUNPOD_GRAPHQL_URL = 'https://api.runpod.io/graphql';

/**
 * RunPod has no tags: a pod is found by its name, `<namePrefix><resourceId>` (default
 * `slipway-`), and inventory lists the pods whose name starts with the prefix. Two Slipway
 * installations on one RunPod account need different prefixes, or each would reap the other's pods.
 */
export const NAME_PREFIX = 'slipway-';
export const podName = (resourceId: string, prefix: string = NAME_PREFIX): string => `${prefix}${resourceId}`;
export const CLOUD_TYPES = ['ALL', 'SECURE', 'COMMUNITY'] as const;

/** Rates are priced in ten-thousandths of a credit (see quote). */
export const RATE_SCALE = 10_000;

const catalogName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'catalog names are 1-63 of [a-z0-9._-]');

export const RunpodGpuTypeSchema = z
  .object({
    /** RunPod's gpuTypeId (`NVIDIA GeForce RTX 4090`), not the display name. */
    id: z.string().min(1).max(100),
    displayName: z.string().min(1).max(100).optional(),
    /**
     * Slipway credits per GPU per started hour, at most 4 decimals. The bound keeps a year of
     * 8 GPUs counted in ten-thousandths a safe integer.
     */
    creditsPerHour: z
      .number()
      .positive()
      .max(10_000_000)
      .refine((v) => Math.abs(v * RATE_SCALE - Math.round(v * RATE_SCALE)) < 1e-6, 'at most 4 decimals'),
    memoryGb: z.number().int().positive().optional(),
  })
  .strict();

// Prices assume 1 credit = 1 US cent at RunPod's secure-cloud on-demand rates; operators set their own.
const DEFAULT_GPU_TYPES: z.input<typeof RunpodGpuTypeSchema>[] = [
  { id: 'NVIDIA RTX A4000', displayName: 'RTX A4000', creditsPerHour: 35, memoryGb: 16 },
  { id: 'NVIDIA GeForce RTX 3090', displayName: 'RTX 3090', creditsPerHour: 45, memoryGb: 24 },
  { id: 'NVIDIA GeForce RTX 4090', displayName: 'RTX 4090', creditsPerHour: 70, memoryGb: 24 },
  { id: 'NVIDIA RTX A6000', displayName: 'RTX A6000', creditsPerHour: 80, memoryGb: 48 },
  { id: 'NVIDIA H100 80GB HBM3', displayName: 'H100 SXM', creditsPerHour: 300, memoryGb: 80 },
];
const DEFAULT_IMAGES = { pytorch: 'runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel-ubuntu22.04' };

const DefaultsSchema = z
  .object({
    /** Catalog GPU id of a request that names none. Default: the first of `gpuTypes`. */
    gpuType: z.string().optional(),
    gpuCount: z.number().int().min(1).max(8).default(1),
    /** Key of `images`. */
    image: catalogName.default('pytorch'),
    cloudType: z.enum(CLOUD_TYPES).default('SECURE'),
    /** The container disk; a request's `spec.diskGb` raises it. */
    containerDiskInGb: z.number().int().min(1).max(4000).default(20),
    volumeInGb: z.number().int().min(0).max(4000).default(0),
  })
  .strict();

const DeadlinesSchema = z
  .object({
    /** How long allocate waits for the pod's public SSH port (dstack: 20 min). */
    readyTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(20 * 60_000),
    /** Interval of the readiness polls (SkyPilot and dstack: 5 s). */
    pollIntervalMs: z.number().int().positive().default(5_000),
    /** Creates tried when one fails with an unknown outcome (each after a look-up by name). */
    createAttempts: z.number().int().min(1).max(10).default(3),
    /** Wait before looking a failed create up by name. */
    createRetryDelayMs: z.number().int().min(0).default(2_000),
  })
  .strict();

const PolicySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(20),
    initialDelayMs: z.number().int().min(0),
    maxDelayMs: z.number().int().min(0),
    requestTimeoutMs: z.number().int().positive(),
    breakerThreshold: z.number().int().min(1),
    breakerHalfOpenAfterMs: z.number().int().min(0),
  })
  .partial()
  .strict();

export const RunpodConfigSchema = z
  .object({
    apiKey: z.string().min(1, 'a RunPod API key is required'),
    baseUrl: z.url().default(RUNPOD_GRAPHQL_URL),
    namePrefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,30}-$/, 'lowercase letters, digits and -, ending in -')
      .default(NAME_PREFIX),
    gpuTypes: z.array(RunpodGpuTypeSchema).min(1).default(DEFAULT_GPU_TYPES),
    /** Image names users may ask for → the container image RunPod pulls. */
    images: z
      .record(catalogName, z.string().min(1).max(500))
      .refine((images) => Object.keys(images).length > 0, { message: 'at least one image' })
      .default(DEFAULT_IMAGES),
    defaults: DefaultsSchema.prefault({}),
    deadlines: DeadlinesSchema.prefault({}),
    policy: PolicySchema.default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!(c.defaults.image in c.images)) {
      ctx.addIssue({ code: 'custom', path: ['defaults', 'image'], message: 'not one of images' });
    }
    if (c.defaults.gpuType !== undefined && !c.gpuTypes.some((g) => g.id === c.defaults.gpuType)) {
      ctx.addIssue({ code: 'custom', path: ['defaults', 'gpuType'], message: 'not one of gpuTypes' });
    }
  });

export type RunpodConfigInput = z.input<typeof RunpodConfigSchema>;
export type RunpodConfig = z.output<typeof RunpodConfigSchema>;
export type RunpodGpuType = z.output<typeof RunpodGpuTypeSchema>;
export type CloudType = (typeof CLOUD_TYPES)[number];

/** Parse a configuration; VALIDATION_FAILED names the first bad field (never a value: the key is secret). */
export function parseRunpodConfig(input: unknown): RunpodConfig {
  const parsed = RunpodConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') || 'config';
  throw new SlipwayError('VALIDATION_FAILED', `runpod provisioner config: ${field}: ${issue?.message ?? 'invalid'}`, {
    details: { field },
  });
}

const sshKey = z.string().regex(/^(ssh-|ecdsa-|sk-)[a-z0-9@.-]+ [A-Za-z0-9+/=]+( [^\n]*)?$/, 'not an SSH public key');

/** The `options` of a create request, checked against the catalog. A GPU may be named by id or display name. */
export function runpodOptionsSchema(config: Pick<RunpodConfig, 'gpuTypes' | 'images'>) {
  const gpuId = (name: string) => config.gpuTypes.find((g) => g.id === name || g.displayName === name)?.id;
  const images = Object.keys(config.images);
  return z
    .object({
      gpuType: z
        .string()
        .max(100)
        .refine((name) => gpuId(name) !== undefined, {
          message: `unknown GPU type; one of: ${config.gpuTypes.map((g) => g.id).join(', ')}`,
        })
        .transform((name) => gpuId(name) ?? name)
        .optional(),
      gpuCount: z.number().int().min(1).max(8).optional(),
      image: z
        .string()
        .refine((name) => images.includes(name), { message: `unknown image; one of: ${images.join(', ')}` })
        .optional(),
      cloudType: z.enum(CLOUD_TYPES).optional(),
      /** A spot pod: cheaper, but RunPod may stop it when outbid. Needs `bidPerGpu`. */
      interruptible: z.boolean().optional(),
      /** US dollars per GPU-hour offered for a spot pod. */
      bidPerGpu: z.number().positive().max(1000).optional(),
      dataCenterId: z
        .string()
        .regex(/^[A-Z0-9][A-Z0-9-]{0,31}$/, 'a RunPod data center id such as EU-RO-1')
        .optional(),
      /** The same source as the QEMU provisioner: installed as the pod's PUBLIC_KEY. */
      sshKeys: z.array(sshKey).max(32).optional(),
    })
    .strict()
    .superRefine((o, ctx) => {
      if (o.interruptible && o.bidPerGpu === undefined) {
        ctx.addIssue({ code: 'custom', path: ['bidPerGpu'], message: 'an interruptible pod needs bidPerGpu' });
      }
      if (!o.interruptible && o.bidPerGpu !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['bidPerGpu'], message: 'bidPerGpu applies to interruptible pods only' });
      }
    });
}

export type RunpodOptions = z.output<ReturnType<typeof runpodOptionsSchema>>;

/** What a request resolves to: its options with the configured defaults filled in. */
export interface PodPlan {
  readonly gpu: RunpodGpuType;
  readonly gpuCount: number;
  readonly imageName: string;
  readonly cloudType: CloudType;
  readonly interruptible: boolean;
  readonly bidPerGpu?: number;
  readonly dataCenterId?: string;
  readonly sshKeys: readonly string[];
}

export function planPod(config: RunpodConfig, options: Partial<RunpodOptions>): PodPlan {
  const gpuId = options.gpuType ?? config.defaults.gpuType;
  const gpu = config.gpuTypes.find((g) => g.id === gpuId) ?? config.gpuTypes[0];
  if (!gpu)
    throw new SlipwayError('VALIDATION_FAILED', 'runpod: no GPU types configured', { details: { field: 'gpuType' } });
  const image = config.images[options.image ?? config.defaults.image] ?? Object.values(config.images)[0] ?? '';
  return {
    gpu,
    gpuCount: options.gpuCount ?? config.defaults.gpuCount,
    imageName: image,
    cloudType: options.cloudType ?? config.defaults.cloudType,
    interruptible: options.interruptible === true,
    ...(options.bidPerGpu !== undefined ? { bidPerGpu: options.bidPerGpu } : {}),
    ...(options.dataCenterId !== undefined ? { dataCenterId: options.dataCenterId } : {}),
    sshKeys: options.sshKeys ?? [],
  };
}

/** What allocate keeps on the allocation (`data`), so power operations need no look-up. */
export interface PodData {
  readonly gpuType: string;
  readonly gpuCount: number;
  readonly interruptible: boolean;
  readonly bidPerGpu?: number;
}
