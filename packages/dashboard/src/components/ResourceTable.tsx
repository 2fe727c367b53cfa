/** The machines table (users' and admins'): sortable headers, status dot, SSH to copy, cockpit link. */
import { useState } from 'preact/hooks';
import { type ResourceRowData, sshCommand } from '../api/resource-fields';
import { credits } from '../format';
import { href } from '../router';
import { CopyText } from './CopyButton';
import { StatusBadge } from './StatusBadge';
import { Time } from './Time';

type SortKey = 'name' | 'ownerId' | 'provisioner' | 'status' | 'cost' | 'expiresAt' | 'createdAt';
interface Column {
  key: SortKey | null;
  label: string;
}

function compare(a: ResourceRowData, b: ResourceRowData, key: SortKey): number {
  const x = a[key] ?? '';
  const y = b[key] ?? '';
  return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
}

export function ResourceTable({ rows, showOwner = false }: { rows: ResourceRowData[]; showOwner?: boolean }) {
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'createdAt', dir: -1 });
  const columns: Column[] = [
    { key: 'name', label: 'Name' },
    ...(showOwner ? [{ key: 'ownerId' as const, label: 'Owner' }] : []),
    { key: 'provisioner', label: 'Provisioner' },
    { key: 'status', label: 'Status' },
    { key: null, label: 'IP' },
    { key: null, label: 'SSH' },
    { key: 'cost', label: 'Cost' },
    { key: 'expiresAt', label: 'Expires' },
    { key: null, label: 'Cockpit' },
  ];
  const sorted = [...rows].sort((a, b) => compare(a, b, sort.key) * sort.dir);
  const toggle = (key: SortKey) => setSort((s) => ({ key, dir: s.key === key && s.dir === 1 ? -1 : 1 }));
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            {columns.map((c) => (
              <th
                key={c.label}
                scope="col"
                aria-sort={c.key && sort.key === c.key ? (sort.dir === 1 ? 'ascending' : 'descending') : undefined}
              >
                {c.key ? (
                  <button type="button" class="sort" onClick={() => c.key && toggle(c.key)}>
                    {c.label}
                    <span aria-hidden="true">{sort.key === c.key ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}</span>
                  </button>
                ) : (
                  c.label
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.length === 0 && (
            <tr>
              <td colSpan={columns.length} class="muted">
                No machines match.
              </td>
            </tr>
          )}
          {sorted.map((r) => (
            <Row key={r.id} r={r} showOwner={showOwner} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Row({ r, showOwner }: { r: ResourceRowData; showOwner: boolean }) {
  const ssh = sshCommand(r);
  return (
    <tr data-resource={r.name}>
      <td data-label="Name">
        <a href={href('resources', r.id)}>{r.name}</a>
      </td>
      {showOwner && <td data-label="Owner">{r.ownerId}</td>}
      <td data-label="Provisioner">{r.provisioner}</td>
      <td data-label="Status">
        <StatusBadge status={r.status} />
      </td>
      <td data-label="IP">{r.ip ?? '—'}</td>
      <td data-label="SSH">{ssh ? <CopyText text={ssh} label={`SSH command for ${r.name}`} /> : '—'}</td>
      <td data-label="Cost" class="num">
        {credits(r.cost)}
      </td>
      <td data-label="Expires">
        <Time iso={r.expiresAt} />
      </td>
      <td data-label="Cockpit">
        {r.cockpitUrl ? (
          <a href={r.cockpitUrl} target="_blank" rel="noopener noreferrer" aria-label={`Open cockpit of ${r.name}`}>
            Open →
          </a>
        ) : (
          '—'
        )}
      </td>
    </tr>
  );
}
