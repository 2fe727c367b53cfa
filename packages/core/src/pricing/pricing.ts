/**
 * Pricing policies turn a spec into integer credits. Chosen per provisioner; a provisioner
 * with the PriceQuote capability quotes for itself instead.
 */
import type { ResourceSpec } from '../domain.js';

export type PricingPolicyName = 'standard' | 'compute';
export type PricingPolicy = (spec: ResourceSpec) => number;

/** RAM MB/512×5 + disk GB/10×2 + vCPU×10, minimum 10. 1024 MB, 20 GB, 2 vCPU = 34. */
export const standardPricing: PricingPolicy = (spec) =>
  Math.max(10, Math.ceil((spec.memoryMb / 512) * 5 + (spec.diskGb / 10) * 2 + spec.vcpu * 10));

/** vCPU×10 + memory GB×5 (1 GB = 1024 MB), rounded up to whole credits. */
export const computePricing: PricingPolicy = (spec) => Math.ceil(spec.vcpu * 10 + (spec.memoryMb / 1024) * 5);

export const PRICING_POLICIES: Record<PricingPolicyName, PricingPolicy> = {
  standard: standardPricing,
  compute: computePricing,
};
