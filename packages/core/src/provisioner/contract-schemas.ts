/** What the runtime checks every plugin answer against before the core believes it. */
import { z } from 'zod';
import { ALLOCATION_STATES } from '../domain.js';
import { LIMITS } from '../limits/limits.js';

export const AllocationSchema = z.object({
  resourceId: z.string().min(1),
  externalId: z.string().min(1),
  ip: z.string().nullish(),
  sshPort: z.number().int().min(1).max(65535).nullish(),
  cockpitUrl: z.url().nullish(),
  state: z.enum(ALLOCATION_STATES).optional(),
  cost: z.number().int().min(0).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

export const ReconfigureSchema = z.object({ appliedAt: z.enum(['now', 'next-boot']) });

const RunningSchema = z.object({ vcpu: z.number().positive(), memoryMb: z.number().int().positive() });
export const PowerResultSchema = z.object({ running: RunningSchema.optional() }).optional();
export const DetachResultSchema = z.object({ state: z.enum(['detached', 'pending']) }).optional();
export const HostDescriptorSchema = z.object({
  name: z.string().regex(LIMITS.hostName.pattern),
  capacity: z.object({
    vcpu: z.number().positive(),
    memoryMb: z.number().int().positive(),
    diskGb: z.number().int().min(0),
  }),
});

export const RefreshSchema = z.object({
  prevPoolSize: z.number().int().min(0),
  poolSize: z.number().int().min(0),
  added: z.array(z.string()),
  removed: z.array(z.string()),
  stillAllocated: z.array(z.string()),
});

export const InventorySchema = z.array(
  z.object({ externalId: z.string().min(1), resourceId: z.string().optional(), requestId: z.string().optional() }),
);

export const StatusSchema = z.object({
  state: z.enum(ALLOCATION_STATES),
  ip: z.string().nullish(),
  sshPort: z.number().int().min(1).max(65535).nullish(),
  cockpitUrl: z.url().nullish(),
  message: z.string().optional(),
});

const catalogName = z.string().min(1).max(200);
const description = z.string().max(500).optional();
const optionField = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/)
  .optional();
export const CatalogSchema = z.object({
  imageOption: optionField,
  images: z.array(z.object({ name: catalogName, description, isDefault: z.boolean().optional() }).strict()).max(1000),
  sizeOption: optionField,
  sizes: z
    .array(
      z
        .object({
          name: catalogName,
          description,
          vcpu: z.number().positive().optional(),
          memoryMb: z.number().int().positive().optional(),
          diskGb: z.number().int().min(0).optional(),
          gpu: z
            .object({
              count: z.number().int().positive(),
              model: z.string().min(1).max(200),
              memoryGb: z.number().int().positive().optional(),
            })
            .strict()
            .optional(),
          isDefault: z.boolean().optional(),
        })
        .strict(),
    )
    .max(1000),
  anySpec: z.boolean(),
});
