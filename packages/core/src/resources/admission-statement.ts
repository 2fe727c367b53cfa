/**
 * The admission of a create in one statement: the ledger's hold (HOLD_CTES) and the
 * PROVISIONING resource it pays for, the resource only if the hold was taken. The
 * reservation and the resource name each other; foreign keys are checked at the end of
 * the statement, so their order inside it does not matter.
 */
import type { ReserveInput } from '../ledger/ledger.js';
import { HOLD_CTES } from '../ledger/ledger-statements.js';
import type { Executor } from '../storage/executor.js';
import { runStatement, statement } from '../storage/prepared.js';
import { RESOURCE_COLUMN_LIST, type ResourceRow } from './resource-mapper.js';

const ADMIT = statement<ResourceRow>(
  'resources.admit',
  `with ${HOLD_CTES}
   insert into resources (id, owner_id, name, kind, provisioner, host, spec, options, status, metadata, labels,
                          expires_at, cost, request_id, request_params, reservation_id, created_at, updated_at)
   select $5::uuid, $1, $7, $8, $9, $10, $11::jsonb, $12::jsonb, 'PROVISIONING', $13::jsonb, $14::jsonb,
          $15::timestamptz, $2::int8, $16, $17::jsonb, hold.id, $18::timestamptz, $18::timestamptz
   from hold
   returning ${RESOURCE_COLUMN_LIST}`,
);

export interface AdmittedResource {
  name: string;
  kind: string;
  provisioner: string;
  host: string | null;
  spec: unknown;
  options: unknown;
  metadata: unknown;
  labels: unknown;
  expiresAt: Date | null;
  requestId: string;
  requestParams: unknown;
  createdAt: Date;
}

/** Hold `hold.amount` and insert the resource it pays for; undefined when the credits do not cover it. */
export async function admitResource(
  db: Executor,
  hold: Required<Omit<ReserveInput, 'purpose'>> & { resourceId: string },
  r: AdmittedResource,
): Promise<ResourceRow | undefined> {
  const [row] = await runStatement(db, ADMIT, [
    hold.accountId,
    hold.amount,
    hold.reservationId,
    'allocation',
    hold.resourceId,
    hold.expiresAt,
    r.name,
    r.kind,
    r.provisioner,
    r.host,
    JSON.stringify(r.spec),
    JSON.stringify(r.options),
    JSON.stringify(r.metadata),
    JSON.stringify(r.labels),
    r.expiresAt,
    r.requestId,
    JSON.stringify(r.requestParams),
    r.createdAt,
  ]);
  return row;
}
