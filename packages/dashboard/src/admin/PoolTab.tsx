/** Pool allocations (who holds which machine) and a refresh with its result. */
import { useState } from 'preact/hooks';
import { ApiError, mutate, unwrap } from '../api/client';
import { useQuery } from '../api/hooks';
import { ERROR_FIELDS } from '../api/resource-fields';
import { CopyText } from '../components/CopyButton';
import { ErrorNote } from '../components/ErrorNote';
import { StatusBadge } from '../components/StatusBadge';
import { Time } from '../components/Time';
import { credits } from '../format';
import { graphql, type ResultOf } from '../graphql';
import { href } from '../router';

const PoolQuery = graphql(`
  query Pool {
    poolAllocations {
      machineId machineName host sshPort status maintenance removed resourceId resourceStatus ownerId
      requestId since cost cockpitUrl size { vcpu memoryMb diskGb }
    }
  }
`);
const RefreshMutation = graphql(
  `mutation RefreshPool { refreshPool {
    ...ErrorFields
    ... on ValidationError { problems }
    ... on MutationRefreshPoolSuccess { data { added removed stillAllocated poolSize prevPoolSize } } } }`,
  [ERROR_FIELDS],
);
type RefreshResult = Extract<ResultOf<typeof RefreshMutation>['refreshPool'], { data: unknown }>['data'];

export function PoolTab() {
  const { data, error, refetch } = useQuery(PoolQuery, {}, { refetchOn: (e) => e.resourceId !== null });
  const [result, setResult] = useState<RefreshResult | null>(null);
  const [refreshError, setRefreshError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const refresh = async () => {
    setBusy(true);
    try {
      setResult(unwrap((await mutate(RefreshMutation, {})).refreshPool));
      setRefreshError(null);
      refetch();
    } catch (e) {
      setResult(null);
      setRefreshError(e instanceof ApiError ? e : new ApiError('ERROR', String(e)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main>
      <h1>Pool</h1>
      <div class="row">
        <button type="button" class="primary" onClick={refresh} disabled={busy}>
          Refresh pool
        </button>
      </div>
      <ErrorNote error={refreshError} />
      {result && (
        <p role="status" data-testid="refresh-result">
          Refreshed: {result.prevPoolSize} → {result.poolSize} machines; added {result.added.length}, removed{' '}
          {result.removed.length}, still allocated {result.stillAllocated.length}.
        </p>
      )}
      <ErrorNote error={error} />
      {data && <PoolTable rows={data.poolAllocations} />}
    </main>
  );
}

function PoolTable({ rows }: { rows: ResultOf<typeof PoolQuery>['poolAllocations'] }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            {['Machine', 'Host', 'State', 'Holder', 'Owner', 'Since', 'Request id', 'Cost', 'Cockpit'].map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={9} class="muted">
                No machines known yet: the pool is read on its first use or refresh.
              </td>
            </tr>
          )}
          {rows.map((m) => (
            <tr key={m.machineId} data-machine={m.machineId}>
              <td data-label="Machine">
                {m.machineName} <span class="muted">({m.machineId})</span>
              </td>
              <td data-label="Host">
                <CopyText text={`${m.host}:${m.sshPort}`} label={`address of ${m.machineName}`} />
              </td>
              <td data-label="State">
                {m.status.toUpperCase()}
                {m.maintenance && <span class="tag warn">maintenance</span>}
                {m.removed && <span class="tag warn">removed</span>}
              </td>
              <td data-label="Holder">
                {m.resourceId ? <a href={href('resources', m.resourceId)}>{m.resourceId.slice(0, 8)}</a> : '—'}{' '}
                {m.resourceStatus && <StatusBadge status={m.resourceStatus} />}
              </td>
              <td data-label="Owner">{m.ownerId ?? '—'}</td>
              <td data-label="Since">
                <Time iso={m.since} />
              </td>
              <td data-label="Request id">{m.requestId ? <code>{m.requestId}</code> : '—'}</td>
              <td data-label="Cost" class="num">
                {m.cost == null ? '—' : credits(m.cost)}
              </td>
              <td data-label="Cockpit">
                {m.cockpitUrl ? (
                  <a href={m.cockpitUrl} target="_blank" rel="noopener noreferrer">
                    Open →
                  </a>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
