import { describe, expect, it } from 'vitest';
import {
  computePricing,
  isSlipwayError,
  parseQuantity,
  ResourceSpecInputSchema,
  standardPricing,
} from '../src/index.js';

describe('pricing policies', () => {
  it('standard: 1024 MB, 20 GB, 2 vCPU costs 34', () => {
    expect(standardPricing({ vcpu: 2, memoryMb: 1024, diskGb: 20 })).toBe(34);
  });

  it('standard has a minimum of 10', () => {
    expect(standardPricing({ vcpu: 0.1, memoryMb: 64, diskGb: 0 })).toBe(10);
  });

  it('compute: vCPU×10 + memory GB×5, rounded up', () => {
    expect(computePricing({ vcpu: 2, memoryMb: 4096, diskGb: 0 })).toBe(40);
    expect(computePricing({ vcpu: 0.5, memoryMb: 512, diskGb: 0 })).toBe(8);
  });

  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('2Gi')).toBe(2 * 2 ** 30);
    expect(parseQuantity('512Mi')).toBe(512 * 2 ** 20);
    expect(parseQuantity('1.5G')).toBe(1.5e9);
  });

  it('rejects what is not a quantity with a typed error', () => {
    try {
      parseQuantity('two gigs', 'memory');
      expect.unreachable();
    } catch (error) {
      expect(isSlipwayError(error, 'VALIDATION_FAILED')).toBe(true);
    }
  });

  it('a spec given as cpu/memory quantities prices under compute', () => {
    const spec = ResourceSpecInputSchema.parse({ cpu: '500m', memory: '2Gi', diskGb: 0 });
    expect(spec).toEqual({ vcpu: 0.5, memoryMb: 2048, diskGb: 0 });
    expect(computePricing(spec)).toBe(15);
    const small = ResourceSpecInputSchema.parse({ cpu: '500m', memory: '512Mi', diskGb: 0 });
    expect(computePricing(small)).toBe(8);
  });
});
