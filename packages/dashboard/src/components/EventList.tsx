/** Events of one resource (or all visible ones): the history, then live ones appended, each once. */
import { useEffect, useState } from 'preact/hooks';
import { query } from '../api/client';
import { EventsQuery, type LiveEvent, seqAfter, seqVar } from '../api/events';
import { onLiveEvent } from '../api/live';
import { Time } from './Time';

const PAGE = 500;

/** History and live events together: each seq once, oldest first. */
function mergeEvents(have: LiveEvent[], more: LiveEvent[]): LiveEvent[] {
  const seen = new Set(have.map((e) => String(e.seq)));
  const next = [...have, ...more.filter((e) => !seen.has(String(e.seq)))];
  return next.sort((a, b) => (seqAfter(String(a.seq), String(b.seq)) ? 1 : -1));
}

export function EventList({ resourceId, severity }: { resourceId?: string; severity?: string }) {
  const [events, setEvents] = useState<LiveEvent[]>([]);
  // The API lists oldest first: a full page means there may be newer history after it.
  const [more, setMore] = useState<string | null>(null);
  const loadAfter = async (after: string | null) => {
    const d = await query(EventsQuery, {
      first: PAGE,
      ...(after ? { after: seqVar(after) } : {}),
      ...(resourceId ? { resourceId } : {}),
    });
    const last = d.events.at(-1);
    setMore(d.events.length === PAGE && last ? String(last.seq) : null);
    return d.events;
  };
  useEffect(() => {
    let live = true;
    const merge = (list: LiveEvent[]) => setEvents((have) => mergeEvents(have, list));
    const load = () => loadAfter(null).then((list) => live && merge(list));
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
  const shown = events.filter((e) => !severity || e.severity === severity).reverse();
  const loadMore = async () => {
    if (!more) return;
    const list = await loadAfter(more);
    setEvents((have) => mergeEvents(have, list));
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
      {more && (
        <button type="button" onClick={loadMore}>
          Load events after #{more}
        </button>
      )}
    </section>
  );
}
