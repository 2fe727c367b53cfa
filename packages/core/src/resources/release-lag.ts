/**
 * How late machines go away, for the admin console's charts: expiry lag (from `expiresAt` to
 * EXPIRED) and deletion lag (from the release request, by a user or by expiry, to
 * RELEASED/EXPIRED). Computed in the database over the newest `first` releases, so the
 * browser never pages through unbounded lists.
 */
import { sql } from 'kysely';
import { type Actor, isAdmin } from '../domain.js';
import { SlipwayError } from '../errors.js';
import type { Executor } from '../storage/executor.js';

export type LagKind = 'expiry' | 'deletion';

export interface LagSample {
  resourceId: string;
  provisioner: string;
  /** When the machine was gone (released_at). */
  at: Date;
  seconds: number;
}

export interface LagQuery {
  kind: LagKind;
  /** Newest samples, 1..1000. */
  first: number;
  /** Only releases at or after this instant. */
  since?: Date;
}

export const LAG_PAGE = { defaultSize: 200, maxSize: 1000 } as const;

/** Events that request a release: the user's (`releasing`) and the expiry sweeper's (`expiring`). */
const RELEASE_REQUESTS = ['resource.releasing', 'resource.expiring'];

/** Admins only (FORBIDDEN otherwise). Newest first. */
export async function releaseLagSamples(db: Executor, actor: Actor, query: LagQuery): Promise<LagSample[]> {
  if (!isAdmin(actor)) throw new SlipwayError('FORBIDDEN', 'only admins see release lags');
  if (!Number.isInteger(query.first) || query.first < 1 || query.first > LAG_PAGE.maxSize) {
    throw new SlipwayError('VALIDATION_FAILED', `first: must be a whole number from 1 to ${LAG_PAGE.maxSize}`, {
      details: { field: 'first' },
    });
  }
  const start =
    query.kind === 'expiry'
      ? sql<Date>`r.expires_at`
      : sql<Date | null>`(select min(e.created_at) from events e
          where e.resource_id = r.id and e.action in (${sql.join(RELEASE_REQUESTS)}))`;
  let q = db
    .selectFrom('resources as r')
    .select(['r.id', 'r.provisioner', 'r.released_at'])
    .select(sql<number | null>`extract(epoch from (r.released_at - ${start}))::float8`.as('seconds'))
    .where('r.released_at', 'is not', null)
    .where('r.status', 'in', query.kind === 'expiry' ? ['EXPIRED'] : ['RELEASED', 'EXPIRED']);
  if (query.kind === 'expiry') q = q.where('r.expires_at', 'is not', null);
  if (query.since) q = q.where('r.released_at', '>=', query.since);
  const rows = await q.orderBy('r.released_at', 'desc').limit(query.first).execute();
  return rows.flatMap((r) =>
    r.seconds === null || r.released_at === null
      ? []
      : [{ resourceId: r.id, provisioner: r.provisioner, at: new Date(r.released_at), seconds: Number(r.seconds) }],
  );
}
