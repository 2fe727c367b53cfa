/**
 * The invariants the simulation checks after every step, straight from the tables
 * (packages/core/src/storage/schema.ts), plus the provider-side ones once it is quiesced.
 * Each check collects every violation it finds and throws one InvariantViolation.
 */

import type { ResourceStatus, SlipwayDatabase } from '@slipway/core';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { ChaosProvider } from './chaos-provisioner.js';

export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

/** Lifecycle edges the core may take (anything else is a resurrection or a skipped step). */
const ALLOWED: Record<ResourceStatus, readonly ResourceStatus[]> = {
  PROVISIONING: ['RUNNING', 'STOPPED', 'FAILED'],
  RUNNING: ['STOPPED', 'RELEASING', 'FAILED', 'UNKNOWN', 'GONE'],
  STOPPED: ['RUNNING', 'RELEASING', 'FAILED', 'UNKNOWN', 'GONE'],
  RELEASING: ['RELEASED', 'EXPIRED'],
  FAILED: ['RELEASED', 'RELEASING'], // RELEASING: a machine that failed after it ran is released at the provider
  RELEASED: [],
  EXPIRED: [],
  UNKNOWN: ['RUNNING', 'STOPPED', 'FAILED', 'RELEASING'], // its host went silent, then returned (or it was released)
  GONE: [], // the orphan reaper found the machine missing at the provider
};

/** What the hold of a resource in each status must be (refund-on-failure policy, the default). */
const HOLD_FOR: Record<ResourceStatus, readonly string[]> = {
  PROVISIONING: ['pending'],
  RUNNING: ['committed'],
  STOPPED: ['committed'],
  RELEASING: ['committed'],
  RELEASED: ['committed', 'released', 'expired'], // a FAILED resource released by its owner keeps its refund
  EXPIRED: ['committed'],
  FAILED: ['released', 'expired'],
  UNKNOWN: ['committed'],
  GONE: ['committed'],
};

interface WalletRow {
  account_id: string;
  balance: number;
  held: number;
  ledger_sum: number;
  granted: number;
  charged_entries: number;
  refunded: number;
  pending_sum: number;
  charged_reservations: number;
  stray_charges: number;
}

export interface ResourceAudit {
  id: string;
  owner_id: string;
  request_id: string;
  status: ResourceStatus;
  cost: number;
  external_id: string | null;
  reservation_id: string | null;
  released_at: Date | null;
  r_id: string | null;
  r_account: string | null;
  r_state: string | null;
  r_amount: number | null;
  r_charged: number | null;
  r_resource: string | null;
  entry_count: number;
  entry_sum: number;
  /** What the ledger took for the resource: its allocation and resize charges minus resize refunds. */
  taken: number;
}

export interface CheckContext {
  db: Kysely<SlipwayDatabase>;
  provider: ChaosProvider;
  /** Credits granted per account as the sim saw the grants succeed (the model). */
  granted: ReadonlyMap<string, number>;
  /** The status each resource had at the previous check; updated by `checkStep`. */
  lastStatus: Map<string, ResourceStatus>;
  /** Filled with each wallet as the last check saw it (the sim's oracle reads it). */
  wallets?: Map<string, { balance: number; held: number }>;
}

/** A pending/settled hold that no resource points at. */
export interface OrphanHold {
  r_id: string;
  r_account: string;
  r_state: string;
  r_amount: number;
}

type AuditRow = Omit<ResourceAudit, 'id'> & { id: string | null };

export async function resourceAudit(
  db: Kysely<SlipwayDatabase>,
): Promise<{ resources: ResourceAudit[]; orphans: OrphanHold[] }> {
  // A full join so that an allocation hold without a resource shows up as a row with id null.
  // Resize holds (resize_reservation_id) are checked on their own (`strayResizeHolds`).
  const { rows } = await sql<AuditRow>`
    with entries as (
      select reservation_id, count(*) as n, sum(amount) as s from ledger_entries
      where reservation_id is not null group by reservation_id
    ), taken as (
      select resource_id, -sum(amount) as t from ledger_entries where resource_id is not null group by resource_id
    ), holds as (
      select * from reservations where purpose is distinct from 'resize'
    )
    select res.id, res.owner_id, res.request_id, res.status, res.cost, res.external_id, res.reservation_id,
           res.released_at,
           r.id as r_id, r.account_id as r_account, r.state as r_state, r.amount as r_amount,
           r.charged as r_charged, r.resource_id as r_resource,
           coalesce(e.n, 0) as entry_count, coalesce(e.s, 0) as entry_sum, coalesce(t.t, 0) as taken
    from resources res
    full join holds r on r.id = res.reservation_id
    left join entries e on e.reservation_id = coalesce(res.reservation_id, r.id)
    left join taken t on t.resource_id = res.id
    order by res.created_at, res.request_id, res.owner_id, r.id`.execute(db);
  const resources: ResourceAudit[] = [];
  const orphans: OrphanHold[] = [];
  for (const r of rows) {
    if (r.id === null) {
      orphans.push({
        r_id: String(r.r_id),
        r_account: String(r.r_account),
        r_state: String(r.r_state),
        r_amount: Number(r.r_amount),
      });
      continue;
    }
    resources.push({
      ...r,
      id: r.id,
      cost: Number(r.cost),
      r_amount: r.r_amount === null ? null : Number(r.r_amount),
      r_charged: r.r_charged === null ? null : Number(r.r_charged),
      entry_count: Number(r.entry_count),
      entry_sum: Number(r.entry_sum),
      taken: Number(r.taken),
    });
  }
  return { resources, orphans };
}

/** Credits: balance = Σ entries, held = Σ pending, balance − held ≥ 0, granted = balance + charged. */
async function checkCredits(ctx: CheckContext, problems: string[]): Promise<void> {
  const { rows } = await sql<WalletRow>`
    with le as (
      select l.account_id,
             sum(l.amount) as total,
             sum(l.amount) filter (where l.kind in ('grant', 'adjustment')) as granted,
             -sum(l.amount) filter (where l.kind = 'charge') as charged,
             sum(l.amount) filter (where l.kind = 'refund') as refunded,
             count(*) filter (where l.kind = 'charge' and r.id is null) as stray
      from ledger_entries l
      left join reservations r on r.id = l.reservation_id and r.state = 'committed'
      group by l.account_id
    ), rv as (
      select account_id,
             sum(amount) filter (where state = 'pending') as pending,
             sum(charged) filter (where state = 'committed') as charged
      from reservations group by account_id
    )
    select w.account_id, w.balance, w.held,
           coalesce(le.total, 0) as ledger_sum, coalesce(le.granted, 0) as granted,
           coalesce(le.charged, 0) as charged_entries, coalesce(le.refunded, 0) as refunded,
           coalesce(le.stray, 0) as stray_charges,
           coalesce(rv.pending, 0) as pending_sum, coalesce(rv.charged, 0) as charged_reservations
    from wallets w
    left join le on le.account_id = w.account_id
    left join rv on rv.account_id = w.account_id
    order by w.account_id`.execute(ctx.db);
  const seen = new Set<string>();
  for (const raw of rows) {
    const w = {
      ...raw,
      balance: Number(raw.balance),
      held: Number(raw.held),
      ledger_sum: Number(raw.ledger_sum),
      granted: Number(raw.granted),
      charged_entries: Number(raw.charged_entries),
      refunded: Number(raw.refunded),
      pending_sum: Number(raw.pending_sum),
      charged_reservations: Number(raw.charged_reservations),
      stray_charges: Number(raw.stray_charges),
    };
    const a = w.account_id;
    seen.add(a);
    ctx.wallets?.set(a, { balance: w.balance, held: w.held });
    if (w.balance !== w.ledger_sum)
      problems.push(`[credits] ${a}: wallet balance ${w.balance} != Σ ledger ${w.ledger_sum}`);
    if (w.held !== w.pending_sum)
      problems.push(`[credits] ${a}: wallet held ${w.held} != Σ pending holds ${w.pending_sum}`);
    if (w.balance - w.held < 0) problems.push(`[credits] ${a}: available ${w.balance - w.held} < 0`);
    if (w.stray_charges > 0)
      problems.push(`[credits] ${a}: ${w.stray_charges} charge entries without a committed hold`);
    if (w.held < 0) problems.push(`[credits] ${a}: held ${w.held} < 0`);
    const model = ctx.granted.get(a) ?? 0;
    if (w.granted !== model)
      problems.push(`[credits] ${a}: ledger grants ${w.granted} != grants the sim made ${model}`);
    // Refunds (a smaller resize applied) give back part of a charge.
    if (w.granted + w.refunded !== w.balance + w.charged_entries) {
      problems.push(
        `[credits] ${a}: granted ${w.granted} + refunded ${w.refunded} != balance ${w.balance} + charged ${w.charged_entries} (credits created or lost)`,
      );
    }
    if (w.charged_entries !== w.charged_reservations) {
      problems.push(
        `[credits] ${a}: charge entries ${w.charged_entries} != Σ committed reservations' charged ${w.charged_reservations}`,
      );
    }
  }
  for (const [a, g] of ctx.granted)
    if (!seen.has(a) && g !== 0) problems.push(`[credits] ${a}: granted ${g} but no wallet`);
}

/** Every resource has exactly the hold its status requires; no hold without a resource; no duplicate request. */
function checkResources(ctx: CheckContext, rows: ResourceAudit[], problems: string[]): void {
  const byRequest = new Map<string, string>();
  for (const r of rows) {
    const name = `${r.owner_id}.${r.request_id} (${r.status})`;
    const dupKey = `${r.owner_id}\u0000${r.request_id}`;
    const other = byRequest.get(dupKey);
    if (other !== undefined)
      problems.push(`[requestId] ${name}: two resources for one requestId: ${other} and ${r.id}`);
    byRequest.set(dupKey, r.id);

    if (!r.reservation_id || !r.r_id) {
      problems.push(`[hold] ${name}: no reservation behind the resource`);
      continue;
    }
    if (r.r_resource !== r.id) problems.push(`[hold] ${name}: its reservation points at resource ${r.r_resource}`);
    if (r.r_account !== r.owner_id) problems.push(`[hold] ${name}: its reservation belongs to ${r.r_account}`);
    // A machine that failed after it ran keeps its charge (it has an external id); a failed allocation never does.
    const allowed = r.status === 'FAILED' && r.external_id !== null ? ['committed'] : HOLD_FOR[r.status];
    if (!allowed) problems.push(`[status] ${name}: unknown status`);
    else if (!allowed.includes(r.r_state ?? '')) {
      problems.push(`[hold] ${name}: reservation is ${r.r_state}, expected ${allowed.join(' or ')}`);
    }
    if (r.r_state === 'committed') {
      if (r.r_charged === null || r.r_charged < 0 || r.r_charged > (r.r_amount ?? 0)) {
        problems.push(`[hold] ${name}: charged ${r.r_charged} outside 0..${r.r_amount}`);
      }
      // Its cost is what the ledger took: the allocation's charge, plus resize charges, minus refunds.
      if (r.cost !== r.taken) problems.push(`[hold] ${name}: resource cost ${r.cost} != ledger took ${r.taken}`);
      if (r.cost < 0) problems.push(`[hold] ${name}: cost ${r.cost} < 0`);
      const expectEntries = (r.r_charged ?? 0) > 0 ? 1 : 0;
      if (r.entry_count !== expectEntries || r.entry_sum !== -(r.r_charged ?? 0)) {
        problems.push(
          `[hold] ${name}: ${r.entry_count} ledger entries summing ${r.entry_sum} for a charge of ${r.r_charged}`,
        );
      }
    } else {
      if (r.entry_count !== 0) problems.push(`[hold] ${name}: ${r.entry_count} ledger entries for a ${r.r_state} hold`);
      if (r.r_state !== 'pending' && r.cost !== 0) {
        problems.push(`[hold] ${name}: refunded (${r.r_state}) but cost is ${r.cost}`);
      }
    }

    const before = ctx.lastStatus.get(r.id);
    if (before !== undefined && before !== r.status && !ALLOWED[before].includes(r.status)) {
      problems.push(`[lifecycle] ${name}: went ${before} → ${r.status}`);
    }
    // Only a FAILED resource (never charged) may end RELEASED with its hold refunded.
    if (r.status === 'RELEASED' && r.r_state !== 'committed' && before !== 'FAILED' && before !== 'RELEASED') {
      problems.push(`[hold] ${name}: released with a ${r.r_state} hold, but it was ${before ?? 'never seen'} before`);
    }
    if ((r.status === 'RELEASED' || r.status === 'EXPIRED' || r.status === 'GONE') && r.released_at === null) {
      problems.push(`[lifecycle] ${name}: no released_at`);
    }

    // A resource the core calls running is backed by exactly one machine at the provider, the one it names.
    if (r.status === 'RUNNING' || r.status === 'STOPPED') {
      const live = ctx.provider.liveFor(r.id);
      if (live.length !== 1 || live[0]?.id !== r.external_id) {
        problems.push(
          `[provider] ${name}: external id ${r.external_id}, live machines at the provider: [${live.map((m) => m.id).join(', ')}]`,
        );
      }
    }
  }

  for (const r of rows) ctx.lastStatus.set(r.id, r.status);
}

/** Resize holds: the one a resource names is pending; a pending one is named by a resource. */
async function checkResizeHolds(ctx: CheckContext, problems: string[]): Promise<void> {
  const { rows } = await sql<{ id: string; state: string | null; resource: string | null }>`
    select v.id, v.state, r.id as resource from reservations v
    full join resources r on r.resize_reservation_id = v.id
    where (v.purpose = 'resize' and v.state = 'pending') or r.resize_reservation_id is not null`.execute(ctx.db);
  for (const h of rows) {
    if (h.resource === null) problems.push(`[resize] hold ${h.id} is pending for no resource`);
    else if (h.state !== 'pending') problems.push(`[resize] resource ${h.resource} names a ${h.state} resize hold`);
  }
}

/** All the invariants that must hold after every single step. */
export async function checkStep(ctx: CheckContext): Promise<ResourceAudit[]> {
  const problems: string[] = [];
  await checkCredits(ctx, problems);
  await checkResizeHolds(ctx, problems);
  const { resources: rows, orphans } = await resourceAudit(ctx.db);
  for (const o of orphans) {
    problems.push(`[hold] reservation ${o.r_id} (${o.r_account}, ${o.r_state}, ${o.r_amount}) has no resource`);
  }
  checkResources(ctx, rows, problems);
  if (problems.length > 0) throw new InvariantViolation(problems);
  return rows;
}

/**
 * Once nothing is in flight: no allocation hold pending, nothing provisioning or releasing, and the
 * provider holds a machine exactly for each RUNNING/STOPPED resource — no leaked machine.
 */
export async function checkQuiesced(ctx: CheckContext): Promise<void> {
  const rows = await checkStep(ctx);
  const problems: string[] = [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const r of rows) {
    if (r.status === 'PROVISIONING' || r.status === 'RELEASING') {
      problems.push(`[quiesced] ${r.owner_id}.${r.request_id} is still ${r.status}`);
    }
  }
  for (const m of ctx.provider.live()) {
    const r = byId.get(m.resourceId);
    if (!r) problems.push(`[leak] machine ${m.id} belongs to no resource`);
    else if (r.status !== 'RUNNING' && r.status !== 'STOPPED') {
      problems.push(`[leak] machine ${m.id} is still live for ${r.owner_id}.${r.request_id}, which is ${r.status}`);
    }
  }
  // A pending resize keeps its hold until a boot or a revert: only allocation holds must be gone.
  const { rows: held } = await sql<{ account_id: string; held: number }>`
    select w.account_id, w.held from wallets w
    where w.held != coalesce((select sum(amount) from reservations v
      where v.account_id = w.account_id and v.state = 'pending' and v.purpose = 'resize'), 0)`.execute(ctx.db);
  for (const w of held) problems.push(`[quiesced] ${w.account_id} still holds ${w.held} beyond pending resizes`);
  if (problems.length > 0) throw new InvariantViolation(problems);
}
