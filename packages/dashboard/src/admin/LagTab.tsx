/** Expiry lag and deletion lag over time, from the admin `releaseLag` query; live. */
import { useQuery } from '../api/hooks';
import { ErrorNote } from '../components/ErrorNote';
import { graphql } from '../graphql';
import { LagChart, summary } from './LagChart';

const LagQuery = graphql(`
  query Lag($first: Int) {
    expiry: releaseLag(kind: EXPIRY, first: $first) { resourceId at seconds }
    deletion: releaseLag(kind: DELETION, first: $first) { resourceId at seconds }
  }
`);

const ENDED = new Set(['resource.released', 'resource.expired']);

export function LagTab() {
  const { data, error } = useQuery(LagQuery, { first: 500 }, { refetchOn: (e) => ENDED.has(e.action) });
  return (
    <main>
      <h1>Release lag</h1>
      <ErrorNote error={error} />
      {data && (
        <>
          <section aria-labelledby="expiry-h">
            <h2 id="expiry-h">Expiry lag: from expiresAt to EXPIRED</h2>
            <p class="muted" data-testid="expiry-summary">
              {summary(data.expiry)}
            </p>
            <LagChart title="Expiry lag" samples={data.expiry} />
          </section>
          <section aria-labelledby="deletion-h">
            <h2 id="deletion-h">Deletion lag: from release request to gone</h2>
            <p class="muted" data-testid="deletion-summary">
              {summary(data.deletion)}
            </p>
            <LagChart title="Deletion lag" samples={data.deletion} />
          </section>
        </>
      )}
    </main>
  );
}
