/**
 * Events of one resource (or all visible ones), newest first: the latest page, live ones added
 * on top as they come, each once; older pages on demand (`events(before, last)`).
 */
import { useEffect, useState } from 'preact/hooks';
import { query } from '../api/client';
import { EventsNewestQuery, type LiveEvent, mergeNewestFirst, seqVar } from '../api/events';
import { onLiveEvent } from '../api/live';
import { Time } from './Time';

interface Props {
  resourceId?: string;
  severity?: string;
  /** Events per page (the first one and each older one). */
  pageSize?: number;
}

export function EventList({ resourceId, severity, pageSize = 100 }: Props) {
  const [events, setEvents] = useState<LiveEvent[]>([]);
  // A full page means there may be older history below its last (smallest) seq.
  const [older, setOlder] = useState<string | null>(null);
  const loadBefore = async (before: string | null) => {
    const d = await query(EventsNewestQuery, {
      last: pageSize,
      ...(before ? { before: seqVar(before) } : {}),
      ...(resourceId ? { resourceId } : {}),
    });
    const oldest = d.events.at(-1);
    setOlder(d.events.length === pageSize && oldest ? String(oldest.seq) : null);
    return d.events;
  };
  useEffect(() => {
    let live = true;
    const merge = (list: LiveEvent[]) => setEvents((have) => mergeNewestFirst(have, list));
    const load = () => loadBefore(null).then((list) => live && merge(list));
    void load();
    const off = onLiveEvent({
      event: (e) => {
        if (!resourceId || e.resourceId === resourceId) merge([e]);
      },
      resync: () => void load(),
    });
    return () => {
      live = false;
      off();
    };
  }, [resourceId]);
  const shown = events.filter((e) => !severity || e.severity === severity);
  const loadOlder = async () => {
    if (!older) return;
    const list = await loadBefore(older);
    setEvents((have) => mergeNewestFirst(have, list));
  };
  return (
    <section class="card" aria-labelledby="events-h">
      <h2 id="events-h">Events</h2>
      <div class="table-wrap">
        <table class="events">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">When</th>
              <th scope="col">Severity</th>
              <th scope="col">Action</th>
              {!resourceId && <th scope="col">Owner</th>}
              <th scope="col">Data</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr key={String(e.seq)} data-seq={String(e.seq)} data-action={e.action}>
                <td data-label="#">{String(e.seq)}</td>
                <td data-label="When">
                  <Time iso={e.createdAt} />
                </td>
                <td data-label="Severity">
                  <span class={`sev sev-${e.severity.toLowerCase()}`}>{e.severity}</span>
                </td>
                <td data-label="Action">{e.action}</td>
                {!resourceId && <td data-label="Owner">{e.ownerId ?? '—'}</td>}
                <td data-label="Data">
                  <code class="data">{JSON.stringify(e.data)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {older && (
        <button type="button" onClick={loadOlder}>
          Load older events (before #{older})
        </button>
      )}
    </section>
  );
}
