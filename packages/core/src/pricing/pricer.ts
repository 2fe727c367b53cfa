import type { ResourceSpec } from '../domain.js';
import { SlipwayError } from '../errors.js';
import type { QuoteTerms } from '../provisioner/capabilities.js';
import type { ProvisionerOptions } from '../provisioner/provisioner.js';
import type { RuntimeProvisioner } from '../provisioner/runtime-provisioner.js';
import { PRICING_POLICIES, type PricingPolicy, type PricingPolicyName } from './pricing.js';

/** Pricing per provisioner name: a policy name or a custom function. */
export type PricingConfig = Record<string, PricingPolicyName | PricingPolicy>;

/** Picks the price for a provisioner: its own quote if it has one, else its configured policy. */
export class Pricer {
  readonly #config: PricingConfig;
  readonly #fallback: PricingPolicyName | PricingPolicy;

  constructor(config: PricingConfig = {}, fallback: PricingPolicyName | PricingPolicy = 'standard') {
    this.#config = config;
    this.#fallback = fallback;
  }

  /** What prices `runtime`: its own quote, a policy name, or `custom` (a function). */
  policyName(runtime: RuntimeProvisioner): string {
    const p = this.#config[runtime.name];
    if (p === undefined && runtime.has('quote')) return 'provisioner';
    const policy = p ?? this.#fallback;
    return typeof policy === 'string' ? policy : 'custom';
  }

  async quote(
    runtime: RuntimeProvisioner,
    spec: ResourceSpec,
    options: ProvisionerOptions,
    terms: QuoteTerms = { ttlSeconds: null },
  ): Promise<number> {
    const configured = this.#config[runtime.name];
    // Through the runtime: a quote gets the same time-out, validation and error wrapping as any plugin call.
    if (configured === undefined && runtime.has('quote')) return runtime.quote(spec, options, undefined, terms);
    const policy = configured ?? this.#fallback;
    const price = (typeof policy === 'string' ? PRICING_POLICIES[policy] : policy)(spec);
    if (!Number.isSafeInteger(price) || price < 1) {
      throw new SlipwayError(
        'PROVISIONER_INVALID_OUTPUT',
        `price for ${runtime.name} is not a positive integer: ${price}`,
      );
    }
    return price;
  }
}
