/** The event log of every account, newest first with older pages on demand, filtered by severity, following the live stream. */
import { useState } from 'preact/hooks';
import { EventList } from '../components/EventList';

export function EventsTab() {
  const [severity, setSeverity] = useState('');
  return (
    <main>
      <h1>Event log</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Severity
          <select value={severity} onChange={(e) => setSeverity(e.currentTarget.value)}>
            <option value="">All</option>
            <option value="INFO">Info</option>
            <option value="WARNING">Warning</option>
            <option value="CRITICAL">Critical</option>
          </select>
        </label>
      </form>
      <EventList severity={severity || undefined} pageSize={25} />
    </main>
  );
}
