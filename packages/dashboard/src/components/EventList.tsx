/** Events of one resource (or all visible ones): the history, then live ones appended, each once. */
import { useEffect, useState } from 'preact/hooks';
import { query } from '../api/client';
import { EventsQuery, type LiveEvent, seqAfter } from '../api/events';
import { onLiveEvent } from '../api/live';
import { Time } from './Time';

export function EventList({ resourceId, severity }: { resourceId?: string; severity?: string }) {
  const [events, setEvents] = useState<LiveEvent[]>([]);
  useEffect(() => {
    let live = true;
    const merge = (more: LiveEvent[]) =>
      setEvents((have) => {
        const seen = new Set(have.map((e) => String(e.seq)));
        const next = [...have, ...more.filter((e) => !seen.has(String(e.seq)))];
        return next.sort((a, b) => (seqAfter(String(a.seq), String(b.seq)) ? 1 : -1));
      });
    const load = () =>
      query(EventsQuery, { first: 500, ...(resourceId ? { resourceId } : {}) }).then((d) => live && merge(d.events));
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
    </section>
  );
}
