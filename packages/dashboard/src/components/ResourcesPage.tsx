/**
 * Machines: filter by status and provisioner (server-side), page with cursors, live. Admins
 * reuse it with `showOwner` to see every user's machines.
 */
import { useState } from 'preact/hooks';
import { useQuery } from '../api/hooks';
import { LIVE_STATUSES, RESOURCE_ROW, STATUSES, type Status } from '../api/resource-fields';
import { graphql } from '../graphql';
import { ErrorNote } from './ErrorNote';
import { ResourceTable } from './ResourceTable';

const ResourcesQuery = graphql(
  `
  query Resources($first: Int, $after: String, $status: [ResourceStatus!], $provisioner: String) {
    resources(first: $first, after: $after, status: $status, provisioner: $provisioner) {
      edges { node { ...ResourceRow } }
      pageInfo { hasNextPage endCursor }
    }
    provisioners { name }
  }
`,
  [RESOURCE_ROW],
);

type StatusFilter = 'LIVE' | 'ALL' | Status;

export function ResourcesPage({ showOwner = false, title = 'Machines' }: { showOwner?: boolean; title?: string }) {
  const [status, setStatus] = useState<StatusFilter>('LIVE');
  const [provisioner, setProvisioner] = useState('');
  const [pageSize, setPageSize] = useState(20);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const statuses = status === 'ALL' ? null : status === 'LIVE' ? LIVE_STATUSES : [status];
  const { data, error } = useQuery(
    ResourcesQuery,
    { first: pageSize, after, status: statuses, provisioner: provisioner || null },
    { refetchOn: (e) => e.resourceId !== null },
  );
  const resetPaging = () => setCursors([null]);
  const page = data?.resources;
  return (
    <main>
      <h1>{title}</h1>
      <form class="filters" aria-label="Filter machines" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.currentTarget.value as StatusFilter);
              resetPaging();
            }}
          >
            <option value="LIVE">Active</option>
            <option value="ALL">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Provisioner
          <select
            value={provisioner}
            onChange={(e) => {
              setProvisioner(e.currentTarget.value);
              resetPaging();
            }}
          >
            <option value="">All</option>
            {data?.provisioners.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Per page
          <select
            value={pageSize}
            onChange={(e) => {
              setPageSize(Number(e.currentTarget.value));
              resetPaging();
            }}
          >
            {[10, 20, 50, 100].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorNote error={error} />
      {page && <ResourceTable rows={page.edges.map((e) => e.node)} showOwner={showOwner} />}
      <nav class="row pager" aria-label="Pages">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          ← Previous
        </button>
        <span class="muted">Page {cursors.length}</span>
        <button
          type="button"
          disabled={!page?.pageInfo.hasNextPage}
          onClick={() => setCursors((c) => [...c, page?.pageInfo.endCursor ?? null])}
        >
          Next →
        </button>
      </nav>
    </main>
  );
}
