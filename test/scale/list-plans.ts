/**
 * Every list the API can build, as the core builds it, and what its plan must look like.
 * Shared by the plan test and `npm run bench`'s scale section (which times the same lists).
 */
import {
  type Actor,
  EventLog,
  eventHistoryQuery,
  LIMITS,
  type ListResourcesQuery,
  RESOURCE_STATUSES,
  resourceCursor,
  resourceListQuery,
  type SlipwayDatabase,
} from '@slipway/core';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { ScaleSeed } from '../support/scale-seed.js';

export interface ListCase {
  name: string;
  /** Rows the page shows (the query asks for one more). */
  page: number;
  query: RawBuilder<unknown> | { compile: RawBuilder<unknown>['compile'] };
}

const RESOURCE_FILTERS: Record<string, ListResourcesQuery> = {
  all: {},
  'status RUNNING': { status: ['RUNNING'] },
  'status RUNNING,STOPPED,FAILED': { status: ['RUNNING', 'STOPPED', 'FAILED'] },
  'every status': { status: [...RESOURCE_STATUSES] },
  'provisioner pool': { provisioner: 'pool' },
  'provisioner pool + RUNNING': { provisioner: 'pool', status: ['RUNNING'] },
  'provisioner pool + RUNNING,STOPPED': { provisioner: 'pool', status: ['RUNNING', 'STOPPED'] },
};

/** The row halfway down the table: its cursor asks for a deep page. */
export async function middleCursorRow(
  db: Kysely<SlipwayDatabase>,
  seed: ScaleSeed,
): Promise<{ createdAt: Date; id: string }> {
  const row = await db
    .selectFrom('resources')
    .select(['created_at', 'id'])
    .orderBy('created_at')
    .offset(Math.floor(seed.resources / 2))
    .limit(1)
    .executeTakeFirstOrThrow();
  return { createdAt: row.created_at, id: row.id };
}

export async function listCases(db: Kysely<SlipwayDatabase>, seed: ScaleSeed): Promise<ListCase[]> {
  const user: Actor = { id: seed.bigOwner, role: 'user' };
  const admin: Actor = { id: 'scale-admin', role: 'admin' };
  const deep = resourceCursor(await middleCursorRow(db, seed));
  const cases: ListCase[] = [];
  const who: [string, Actor, ListResourcesQuery][] = [
    ['own', user, {}],
    ['admin', admin, {}],
    ['admin ownerId', admin, { ownerId: seed.smallOwner }],
  ];
  for (const [whoName, actor, base] of who) {
    for (const [filterName, filter] of Object.entries(RESOURCE_FILTERS)) {
      for (const [pageName, after] of [
        ['first page', undefined],
        ['deep page', deep],
      ] as const) {
        const query = { ...base, ...filter, ...(after ? { after } : {}) };
        cases.push({
          name: `resources ${whoName} ${filterName} ${pageName}`,
          page: LIMITS.resourcePage.defaultSize,
          query: resourceListQuery(db, actor, query),
        });
      }
    }
  }
  const log = new EventLog();
  const seqs = await db.selectFrom('events').select(sql<number>`max(seq) / 2`.as('mid')).executeTakeFirstOrThrow();
  const resource = await db
    .selectFrom('resources')
    .select('id')
    .where('owner_id', '=', seed.bigOwner)
    .limit(1)
    .executeTakeFirstOrThrow();
  for (const [whoName, actor] of [
    ['own', user],
    ['admin', admin],
  ] as const) {
    for (const [pageName, after] of [
      ['first page', undefined],
      ['deep page', Number(seqs.mid)],
    ] as const) {
      const page = after === undefined ? {} : { after };
      cases.push({
        name: `events ${whoName} ${pageName}`,
        page: LIMITS.eventPage.defaultSize,
        query: log.listQuery(db, actor, page),
      });
      cases.push({
        name: `events ${whoName} resource ${pageName}`,
        page: LIMITS.eventPage.defaultSize,
        query: log.listQuery(db, actor, { ...page, resourceId: resource.id }),
      });
      // Newest first (the admin event log), paged back from the same middle seq.
      const back = after === undefined ? {} : { before: after };
      cases.push({
        name: `events newest first ${whoName} ${pageName}`,
        page: LIMITS.eventPage.defaultSize,
        query: eventHistoryQuery(db, actor, back),
      });
      cases.push({
        name: `events newest first ${whoName} resource ${pageName}`,
        page: LIMITS.eventPage.defaultSize,
        query: eventHistoryQuery(db, actor, { ...back, resourceId: resource.id }),
      });
    }
  }
  return cases;
}

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  'Plan Rows': number;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** The plan PostgreSQL runs for `query`, run once to count the rows each node reads. */
export async function explain(db: Kysely<SlipwayDatabase>, query: ListCase['query']): Promise<PlanNode> {
  const compiled = query.compile(db);
  const { rows } = await db.executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>({
    ...compiled,
    sql: `explain (analyze, timing off, format json) ${compiled.sql}`,
  });
  const plan = rows[0]?.['QUERY PLAN'][0]?.Plan;
  if (!plan) throw new Error('no plan');
  return plan;
}

/**
 * Nodes a page may use. Index scans stream in list order and stop when the Limit above them
 * is full. A bitmap scan with a Sort reads and sorts its whole match: PostgreSQL picks it only
 * for a match it expects to be small, and the row budget below checks that it was.
 * Anything else (Seq Scan, Hash, Materialize, ...) reads a whole table or match first.
 */
const ALLOWED = new Set([
  'Limit',
  'Merge Append',
  'Subquery Scan',
  'Result',
  'Index Scan',
  'Index Only Scan',
  'Bitmap Heap Scan',
  'Bitmap Index Scan',
  'Sort',
]);
const SCANS = new Set(['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan']);

/**
 * Rows the scans of a page may read per row a Limit lets through. An index that leads with
 * every filter reads exactly the page; one in list order that filters what it reads
 * (PostgreSQL's choice when the filter keeps many rows: a user with 10% of the table) reads
 * page / share. Scanning the whole match, or every row before the cursor, reads thousands.
 */
export const READ_FACTOR = 25;

/**
 * What is wrong with a list's plan: a Limit on top; only the nodes above (no Seq Scan, no
 * hash); and bounded work: the scans together read at most READ_FACTOR × what their Limits let
 * through, and a Sort never sorts more than that: never the whole of a large match.
 */
export function planProblems(plan: PlanNode, page: number): string[] {
  const problems: string[] = [];
  if (plan['Node Type'] !== 'Limit') problems.push(`top node is ${plan['Node Type']}, not Limit`);
  let read = 0;
  let limits = 0;
  const sorted: number[] = [];
  const walk = (node: PlanNode) => {
    const type = node['Node Type'];
    if (!ALLOWED.has(type)) problems.push(`${type} on ${node['Relation Name'] ?? '-'}`);
    if (SCANS.has(type)) {
      const removed = (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0);
      read += (node['Actual Rows'] + removed) * node['Actual Loops'];
    }
    if (type === 'Limit') limits += 1;
    if (type === 'Sort') sorted.push(node.Plans?.[0]?.['Actual Rows'] ?? 0);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan);
  // One Limit on top, and one per status below it when the list merges several.
  const allowed = READ_FACTOR * (page + 1) * Math.max(limits - 1, 1);
  if (read > allowed) problems.push(`its scans read ${read} rows (allowed ${allowed})`);
  for (const n of sorted) if (n > allowed) problems.push(`a Sort of ${n} rows (allowed ${allowed})`);
  return problems;
}

export function planSummary(node: PlanNode, depth = 0): string {
  const scan = node['Index Name']
    ? ` using ${node['Index Name']}`
    : node['Relation Name']
      ? ` on ${node['Relation Name']}`
      : '';
  const cond = node['Index Cond'] ? ` [${node['Index Cond']}]` : '';
  const filter = node.Filter ? ` filter ${node.Filter} (removed ${node['Rows Removed by Filter'] ?? 0})` : '';
  const line = `${'  '.repeat(depth)}${node['Node Type']}${scan}${cond}${filter} rows=${node['Actual Rows']}`;
  return [line, ...(node.Plans ?? []).map((p) => planSummary(p, depth + 1))].join('\n');
}
