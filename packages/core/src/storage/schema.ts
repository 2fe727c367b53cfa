/** Kysely table types. Column names are snake_case in SQL; services map them to domain types. */
import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { ResourceKind, ResourceSpec, ResourceStatus } from '../domain.js';
import type { JobHistoryEntry } from '../jobs/job-history.js';
import type { ResourceDevice } from '../operation-domain.js';
import type { OperationRecord, OutcomeRecord } from '../resources/operations/operation-records.js';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T extends object | null> = JSONColumnType<T, string, string>;

export interface AccountsTable {
  id: string;
  role: 'user' | 'admin';
  forge_id: string | null;
  created_at: Generated<Date>;
}

export interface WalletsTable {
  account_id: string;
  /** Cached sum of this account's ledger entries. */
  balance: Generated<number>;
  /** Cached sum of this account's pending reservations. */
  held: Generated<number>;
  updated_at: Timestamp;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  account_id: string;
  /** Signed change to the balance: grants positive, charges negative. */
  amount: number;
  kind: 'grant' | 'charge' | 'adjustment' | 'refund';
  reservation_id: string | null;
  resource_id: string | null;
  actor_id: string | null;
  note: string | null;
  created_at: Timestamp;
}

export type ReservationState = 'pending' | 'committed' | 'released' | 'expired';
/** What a hold is for: an allocation (swept when its lease runs out) or a pending resize (never swept). */
export type ReservationPurpose = 'allocation' | 'resize';

export interface ReservationsTable {
  id: string;
  account_id: string;
  amount: number;
  state: ReservationState;
  purpose: ColumnType<ReservationPurpose, ReservationPurpose | undefined, ReservationPurpose>;
  resource_id: string | null;
  /** Credits actually charged on commit (≤ amount). */
  charged: number | null;
  expires_at: Timestamp;
  created_at: Timestamp;
  settled_at: NullableTimestamp;
}

export interface ResourcesTable {
  id: string;
  owner_id: string;
  name: string;
  kind: ResourceKind;
  provisioner: string;
  /** The host it was placed on (host-placed provisioners only); its jobs run on that host's replica. */
  host: ColumnType<string | null, string | null | undefined, string | null>;
  /** Stored after validation by `ResourceSpecSchema`. */
  spec: Json<ResourceSpec>;
  options: Json<Record<string, unknown>>;
  status: ResourceStatus;
  external_id: string | null;
  ip: string | null;
  ssh_port: number | null;
  cockpit_url: string | null;
  allocation_data: Json<Record<string, unknown>> | null;
  metadata: Json<Record<string, unknown>>;
  labels: Json<Record<string, string>>;
  expires_at: NullableTimestamp;
  cost: number;
  request_id: string;
  /** The create parameters as first sent, to tell a retry from a different request. */
  request_params: Json<Record<string, unknown>>;
  reservation_id: string | null;
  error: string | null;
  /** Error code of a failed allocation, so retries of the request answer the same. */
  error_code: string | null;
  /** The operation in flight (power, resize, hotplug); claimed with `where operation is null`. */
  operation: Json<OperationRecord> | null;
  last_operation: Json<OutcomeRecord> | null;
  /** A resize stored at the provider, applied when the machine boots with it. */
  pending_spec: Json<ResourceSpec> | null;
  /** Price of the pending resize minus the current price (credits; held when positive). */
  resize_delta: number | null;
  /** The hold of a bigger resize, from its request until it is applied, reverted, failed or released. */
  resize_reservation_id: string | null;
  devices: ColumnType<ResourceDevice[], string | undefined, string>;
  created_at: Timestamp;
  updated_at: Timestamp;
  released_at: NullableTimestamp;
}

export interface EventsTable {
  seq: Generated<number>;
  type: 'vm' | 'system' | 'admin';
  action: string;
  severity: 'info' | 'warning' | 'critical';
  actor_id: string | null;
  /** Owner of the resource the event is about, so users see only their own events. */
  owner_id: string | null;
  resource_id: string | null;
  data: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface ProvisionerStoreTable {
  namespace: string;
  key: string;
  value: Json<Record<string, unknown>> | ColumnType<unknown, string, string>;
  version: number;
  updated_at: Timestamp;
  /** Set by a write with `retired: true` (a released machine's record); retention deletes it later. */
  retired_at: NullableTimestamp;
}

/** A named lease: the one replica that runs a sweep until `until` (renewed while it sweeps). */
export interface SweepLeasesTable {
  name: string;
  holder: string;
  until: Timestamp;
}

export type JobState = 'queued' | 'running' | 'done' | 'dead';

export interface JobsTable {
  id: Generated<number>;
  /** `resource.allocate`, `resource.release`, `provisioner:<name>:<kind>`, ... */
  kind: string;
  payload: Json<Record<string, unknown>>;
  state: JobState;
  /** Dedupe key: at most one queued/running job per key. */
  key: string | null;
  /** Attempts begun; only a failed one is used up, a takeover continues the current one (jobs/job-claim.ts). */
  attempts: Generated<number>;
  max_attempts: number;
  run_at: Timestamp;
  locked_by: string | null;
  locked_until: NullableTimestamp;
  last_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  finished_at: NullableTimestamp;
  /** Only the replica serving this host may run the job; null: any replica. */
  host: ColumnType<string | null, string | null | undefined, string | null>;
  /** Outcomes of its runs and takeovers, newest last (jobs/job-history.ts). */
  history: ColumnType<JobHistoryEntry[], string | undefined, string>;
  /** Claim order: lower first (jobs/job-queue.ts `JOB_PRIORITY`). */
  priority: ColumnType<number, number | undefined, number>;
}

/** `up`: heartbeating; `stopped`: its replica stopped cleanly; `stale`: its resources were marked UNKNOWN. */
export type HostState = 'up' | 'stopped' | 'stale';

/** A host a replica registered for a host-placed provisioner; see hosts/. */
export interface HostsTable {
  name: string;
  provisioner: string;
  vcpu: number;
  memory_mb: number;
  disk_gb: number;
  /** The replica (job runner id) serving the host now. */
  replica_id: string;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
  state: HostState;
}

/** One sweep of the orphan reaper over a provisioner's inventory (`host` '' unless host-placed). */
export interface ReaperSweepsTable {
  id: Generated<number>;
  provisioner: string;
  host: ColumnType<string, string | undefined, string>;
  started_at: Timestamp;
  /** Null while the sweep runs (or when its runner died). */
  finished_at: NullableTimestamp;
  /** Items the inventory listed. */
  listed: number;
  /** Items with no live resource behind them, in grace or not. */
  orphans_seen: number;
  /** Orphans released at the provider (past their grace). */
  released: number;
  /** Resources marked GONE. */
  marked_gone: number;
  /** Why the sweep failed (inventory) or what it could not release; null when all went well. */
  error: string | null;
}

/** A machine the reaper saw with no live resource behind it; forgotten once it is no orphan or gone. */
export interface ReaperSightingsTable {
  provisioner: string;
  host: ColumnType<string, string | undefined, string>;
  external_id: string;
  /** The resource it was tagged with, if any (text: a provider tag need not be a uuid). */
  resource_id: string | null;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
  /** When the reaper first released it; a later sweep that still lists it releases it again quietly. */
  released_at: NullableTimestamp;
}

export interface RateLimitsTable {
  account_id: string;
  action: string;
  window_start: Timestamp;
  count: number;
}

export interface SlipwayDatabase {
  provisioner_store: ProvisionerStoreTable;
  jobs: JobsTable;
  rate_limits: RateLimitsTable;
  accounts: AccountsTable;
  wallets: WalletsTable;
  ledger_entries: LedgerEntriesTable;
  reservations: ReservationsTable;
  resources: ResourcesTable;
  events: EventsTable;
  hosts: HostsTable;
  reaper_sweeps: ReaperSweepsTable;
  reaper_sightings: ReaperSightingsTable;
  sweep_leases: SweepLeasesTable;
}
