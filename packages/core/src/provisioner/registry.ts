import { SlipwayError } from '../errors.js';
import { checkProvisioner } from './define-provisioner.js';
import type { Clock, Logger, Provisioner } from './provisioner.js';
import type { JobQueue, ProvisionerStore } from './provisioner-store.js';
import { type RuntimeOptions, RuntimeProvisioner } from './runtime-provisioner.js';

export interface RegistryDeps {
  logger: Logger;
  clock: Clock;
  storeFor: (provisioner: string) => ProvisionerStore;
  jobsFor: (provisioner: string) => JobQueue;
}

/** Provisioners by name, each wrapped in a RuntimeProvisioner. Refuses duplicates. */
export class ProvisionerRegistry {
  readonly #byName = new Map<string, RuntimeProvisioner>();
  readonly #deps: RegistryDeps;

  constructor(deps: RegistryDeps) {
    this.#deps = deps;
  }

  register(plugin: Provisioner, options?: RuntimeOptions): RuntimeProvisioner {
    checkProvisioner(plugin);
    if (this.#byName.has(plugin.name)) {
      throw new SlipwayError('DUPLICATE_PROVISIONER', `a provisioner named ${plugin.name} is already registered`);
    }
    const { logger, clock } = this.#deps;
    const runtime = new RuntimeProvisioner(
      plugin,
      { logger, clock, store: this.#deps.storeFor(plugin.name), jobs: this.#deps.jobsFor(plugin.name) },
      options,
    );
    this.#byName.set(plugin.name, runtime);
    return runtime;
  }

  get(name: string): RuntimeProvisioner {
    const found = this.#byName.get(name);
    if (!found) throw new SlipwayError('UNKNOWN_PROVISIONER', `no provisioner named ${name}`, { details: { name } });
    return found;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  list(): RuntimeProvisioner[] {
    return [...this.#byName.values()];
  }
}
