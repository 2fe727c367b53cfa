/** The admin console: tabs over all resources, the pool, credits, the event log and lag charts. */
import { ResourcesPage } from '../components/ResourcesPage';
import { href } from '../router';
import { CreditsTab } from './CreditsTab';
import { EventsTab } from './EventsTab';
import { LagTab } from './LagTab';
import { PoolTab } from './PoolTab';

const TABS = [
  ['resources', 'All resources'],
  ['pool', 'Pool'],
  ['credits', 'Credits'],
  ['events', 'Event log'],
  ['lag', 'Lag'],
] as const;

export function AdminPage({ tab }: { tab: string; sub?: string | undefined }) {
  return (
    <>
      <nav class="tabs" aria-label="Admin">
        {TABS.map(([key, label]) => (
          <a key={key} href={href('admin', key)} aria-current={tab === key ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {tab === 'pool' ? (
        <PoolTab />
      ) : tab === 'credits' ? (
        <CreditsTab />
      ) : tab === 'events' ? (
        <EventsTab />
      ) : tab === 'lag' ? (
        <LagTab />
      ) : (
        <ResourcesPage showOwner title="All resources" />
      )}
    </>
  );
}
