/**
 * One batch of the property: run each operation, check each answer, then the ledger
 * invariants, GET /healthz and isolation between the two users. Returns every problem, each
 * naming the operation that caused it.
 */
import { sql } from 'kysely';
import { checkInvariants } from '../support/invariants.js';
import { answerProblems, dataOf } from './checks.js';
import { type ActorName, type FuzzApp, USERS } from './harness.js';
import { describeOp, type Operation, requestBody } from './operations.js';
import type { World } from './world.js';

/** A request body that is not a well-formed GraphQL request at all. */
export interface GarbageBody {
  garbage: string;
  actor: ActorName;
}

export type Step = Operation | GarbageBody;

/** How each field answered, by `field → outcome → count` (FUZZ_STATS=1 prints it). */
export const outcomes = new Map<string, Map<string, number>>();

function tally(field: string, body: unknown): void {
  const o = (body ?? {}) as {
    data?: Record<string, unknown> | null;
    errors?: Array<{ extensions?: { code?: string } }>;
  };
  const value = o.data?.[field] as { __typename?: string; code?: string } | null | undefined;
  const outcome =
    o.errors?.[0] !== undefined
      ? `error ${o.errors[0].extensions?.code ?? 'untyped'}`
      : (value?.code ?? value?.__typename ?? (value == null ? 'null' : 'data'));
  const byOutcome = outcomes.get(field) ?? new Map<string, number>();
  byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
  outcomes.set(field, byOutcome);
}

/** Longest a request may take: the server waits at most 1 s for a job (SLIPWAY_WAIT_SECONDS). */
const ANSWER_MS = 10_000;

async function within<T>(ms: number, promise: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Run `steps` in order, or with `concurrency` > 1 that many at a time (races between creates,
 * releases, grants and operations on one resource are where a ledger breaks).
 */
export async function runBatch(t: FuzzApp, world: World, steps: readonly Step[], concurrency = 1): Promise<string[]> {
  const problems: string[] = [];
  for (let i = 0; i < steps.length; i += concurrency) {
    const group = steps.slice(i, i + concurrency);
    const found = await Promise.all(group.map((step) => runStep(t, world, step)));
    problems.push(...found.flat());
    if (problems.some((p) => p.includes('no answer within'))) break;
  }
  const after = await within(30_000, afterBatch(t, world));
  problems.push(...(after ?? ['the checks after the batch did not finish within 30 s']));
  if (problems.length > 0) problems.push(...(await history(t, problems)));
  return problems;
}

async function runStep(t: FuzzApp, world: World, step: Step): Promise<string[]> {
  if ('garbage' in step) {
    const answer = await within(ANSWER_MS, t.post(step.garbage, step.actor));
    const shown = JSON.stringify(step.garbage).slice(0, 300);
    if (answer === undefined) return [`garbage body ${shown}: no answer within ${ANSWER_MS} ms`];
    // yoga may refuse a body that is no GraphQL request with a 4xx and no JSON; never a 5xx.
    return answer.status >= 500 ? [`garbage body ${shown}: HTTP ${answer.status}`] : [];
  }
  const body = requestBody(step, world);
  const answer = await within(ANSWER_MS, t.post(body, step.actor));
  if (answer === undefined) return [`no answer within ${ANSWER_MS} ms\n  op: ${describeOp(step, body)}`];
  tally(step.field, answer.body);
  const found = [...answerProblems(answer, step, body), ...world.harvest(dataOf(answer), step.actor)];
  if (found.length === 0) return [];
  return [`${found.join('; ')}\n  answer: ${answer.text.slice(0, 600)}\n  op: ${describeOp(step, body)}`];
}

const RESOURCE = 'query($id: ID!) { resource(id: $id) { __typename id ownerId status } }';
const PATCH = 'mutation($id: ID!) { updateResourceMetadata(id: $id, patch: {}) { __typename ... on Error { code } } }';
const LIST = `query { resources(first: 50) { edges { __typename cursor node { __typename id ownerId status } } } }`;

async function afterBatch(t: FuzzApp, world: World): Promise<string[]> {
  const problems: string[] = [];
  // One snapshot: the job loop keeps settling creates while the checks read.
  const report = await t.storage.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      await sql`select 1`.execute(trx);
      return checkInvariants(trx);
    });
  for (const p of report.problems) problems.push(`invariant: ${p}`);
  const health = await t.healthz();
  if (health !== 200) problems.push(`GET /healthz answered ${health}`);
  for (const user of USERS) {
    const other = user === 'alice' ? 'bob' : 'alice';
    const theirs = [...world.resources.values()].filter((r) => r.owner === other).slice(-2);
    for (const r of theirs) {
      const read = await t.gql(RESOURCE, { id: r.id }, user);
      const code = (read.body as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.[0]?.extensions?.code;
      if (code !== 'NOT_FOUND') problems.push(`${user} reading ${other}'s ${r.id}: ${read.text.slice(0, 300)}`);
      const patch = await t.gql(PATCH, { id: r.id }, user);
      const answer = (dataOf(patch) as { updateResourceMetadata?: { code?: string } } | null)?.updateResourceMetadata;
      if (answer?.code !== 'NOT_FOUND')
        problems.push(`${user} patching ${other}'s ${r.id}: ${patch.text.slice(0, 300)}`);
    }
    const list = await t.gql(LIST, {}, user);
    problems.push(...answerProblems(list, null, LIST), ...world.harvest(dataOf(list), user));
  }
  return problems;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** The event history of every resource a problem names (what a failure needs to be understood). */
async function history(t: FuzzApp, problems: readonly string[]): Promise<string[]> {
  const ids = [...new Set(problems.filter((p) => p.startsWith('invariant')).flatMap((p) => p.match(UUID) ?? []))];
  const out: string[] = [];
  for (const id of ids.slice(0, 3)) {
    const rows = await t.storage.db
      .selectFrom('events')
      .select(['seq', 'action', 'actor_id', 'data'])
      .where('resource_id', '=', id)
      .orderBy('seq')
      .execute();
    const lines = rows.map(
      (r) => `    ${r.seq} ${r.action} by ${r.actor_id ?? 'system'} ${JSON.stringify(r.data).slice(0, 200)}`,
    );
    out.push(`history of ${id}:\n${lines.join('\n')}`);
  }
  return out;
}
