import { PROVISIONER_NAME } from '../domain.js';
import { SlipwayError } from '../errors.js';
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
    if (typeof plugin?.name !== 'string' || !PROVISIONER_NAME.test(plugin.name)) {
      throw new SlipwayError('VALIDATION_FAILED', `provisioner name ${JSON.stringify(plugin?.name)} is invalid`, {
        details: { field: 'name' },
      });
    }
    for (const member of ['allocate', 'release', 'status'] as const) {
      if (typeof plugin[member] !== 'function') {
        throw new SlipwayError('VALIDATION_FAILED', `provisioner ${plugin.name} has no ${member}()`, {
          details: { field: member },
        });
      }
    }
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
