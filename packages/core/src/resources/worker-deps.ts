import type { Kysely } from 'kysely';
import type { EventLog } from '../events/event-log.js';
import type { EventService } from '../events/event-service.js';
import type { LocalHosts } from '../hosts/local-hosts.js';
import type { CreditLedger } from '../ledger/ledger.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { Clock, Logger } from '../provisioner/provisioner.js';
import type { ProvisionerRegistry } from '../provisioner/registry.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import type { ResourceJobs } from './jobs/resource-jobs.js';
import type { ResourcePolicy } from './resource-policy.js';

/** What the job handlers and sweepers of the resource lifecycle work with. */
export interface WorkerDeps {
  db: Kysely<SlipwayDatabase>;
  registry: ProvisionerRegistry;
  ledger: CreditLedger;
  /** Appends inside the flows' transactions. */
  events: EventLog;
  /** Sinks for what provisioners emit. */
  eventService: EventService;
  jobs: ResourceJobs;
  clock: Clock;
  logger: Logger;
  policy: ResourcePolicy;
  limiter: RateLimiter;
  /** The hosts this replica serves: a host-placed provisioner is called only for resources on them. */
  hosts: LocalHosts;
}
