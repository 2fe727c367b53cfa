/** One machine: spec, pending resize, devices, metadata, actions and its events, all live. */
import { useQuery } from '../api/hooks';
import { RESOURCE_ROW, sshCommand } from '../api/resource-fields';
import { credits, memory } from '../format';
import { graphql, type ResultOf } from '../graphql';
import { CopyText } from './CopyButton';
import { ErrorNote } from './ErrorNote';
import { EventList } from './EventList';
import { MetadataEditor } from './MetadataEditor';
import { ResourceActions } from './ResourceActions';
import { StatusBadge } from './StatusBadge';
import { Time } from './Time';

const ResourceQuery = graphql(
  `
  query Resource($id: ID!) {
    resource(id: $id) {
      ...ResourceRow
      kind host externalId error labels metadata releasedAt allowedActions
      spec { vcpu memoryMb diskGb image osType }
      pendingSpec { vcpu memoryMb }
      devices { id type sizeGb state error }
      operation { action startedAt }
      lastOperation { action succeeded code error finishedAt }
    }
  }
`,
  [RESOURCE_ROW],
);

export type ResourceDetail = ResultOf<typeof ResourceQuery>['resource'];

export function ResourcePage({ id }: { id: string }) {
  const { data, error, refetch } = useQuery(ResourceQuery, { id }, { refetchOn: (e) => e.resourceId === id });
  const r = data?.resource;
  return (
    <main>
      <p>
        <a href="#/">← Machines</a>
      </p>
      <ErrorNote error={error} />
      {r && (
        <>
          <h1>
            {r.name} <StatusBadge status={r.status} />
          </h1>
          <ResourceActions resource={r} onDone={refetch} />
          <div class="cards">
            <Spec r={r} />
            <Devices r={r} />
            <MetadataEditor id={r.id} metadata={r.metadata} onSaved={refetch} />
          </div>
          <EventList resourceId={id} />
        </>
      )}
    </main>
  );
}

function Spec({ r }: { r: ResourceDetail }) {
  const ssh = sshCommand(r);
  return (
    <section class="card" aria-labelledby="spec-h">
      <h2 id="spec-h">Machine</h2>
      <dl>
        <dt>Provisioner</dt>
        <dd>
          {r.provisioner}
          {r.host ? ` on ${r.host}` : ''}
        </dd>
        <dt>Size</dt>
        <dd>
          {r.spec.vcpu} vCPU, {memory(r.spec.memoryMb)}, {r.spec.diskGb} GB disk
          {r.spec.image ? `, ${r.spec.image}` : ''}
        </dd>
        {r.pendingSpec && (
          <>
            <dt>Pending resize</dt>
            <dd data-testid="pending-resize">
              {r.pendingSpec.vcpu} vCPU, {memory(r.pendingSpec.memoryMb)} at next boot
            </dd>
          </>
        )}
        <dt>IP</dt>
        <dd>{r.ip ?? '—'}</dd>
        <dt>SSH</dt>
        <dd>{ssh ? <CopyText text={ssh} label="SSH command" /> : '—'}</dd>
        <dt>Cockpit</dt>
        <dd>
          {r.cockpitUrl ? (
            <a href={r.cockpitUrl} target="_blank" rel="noopener noreferrer">
              Open →
            </a>
          ) : (
            '—'
          )}
        </dd>
        <dt>Cost</dt>
        <dd>{credits(r.cost)}</dd>
        <dt>Expires</dt>
        <dd>
          <Time iso={r.expiresAt} />
        </dd>
        <dt>Created</dt>
        <dd>
          <Time iso={r.createdAt} />
        </dd>
        {r.operation && (
          <>
            <dt>In progress</dt>
            <dd>{r.operation.action}</dd>
          </>
        )}
        {r.lastOperation && (
          <>
            <dt>Last operation</dt>
            <dd>
              {r.lastOperation.action} {r.lastOperation.succeeded ? 'succeeded' : `failed: ${r.lastOperation.error}`}
            </dd>
          </>
        )}
        {r.error && (
          <>
            <dt>Error</dt>
            <dd class="error">{r.error}</dd>
          </>
        )}
      </dl>
    </section>
  );
}

function Devices({ r }: { r: ResourceDetail }) {
  return (
    <section class="card" aria-labelledby="devices-h">
      <h2 id="devices-h">Devices</h2>
      {r.devices.length === 0 ? (
        <p class="muted">No hot-plugged devices.</p>
      ) : (
        <ul>
          {r.devices.map((d) => (
            <li key={d.id}>
              {d.type} <code>{d.id}</code>
              {d.sizeGb ? ` ${d.sizeGb} GB` : ''} — {d.state}
              {d.error ? <span class="error"> ({d.error})</span> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
