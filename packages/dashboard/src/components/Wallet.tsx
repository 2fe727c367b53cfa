/** Balance, held and available credits of the signed-in account; refreshed by credit and resource events. */
import { useQuery } from '../api/hooks';
import { credits } from '../format';
import { graphql } from '../graphql';

export const MeQuery = graphql(`query Me { me { id role balance held available } }`);

export function Wallet() {
  const { data } = useQuery(MeQuery, {}, { refetchOn: () => true });
  if (!data) return null;
  const { balance, held, available } = data.me;
  return (
    <section class="wallet" aria-label="Credits">
      <div>
        <span class="muted">Balance</span> <strong data-testid="balance">{credits(balance)}</strong>
      </div>
      <div>
        <span class="muted">Held</span> <strong data-testid="held">{credits(held)}</strong>
      </div>
      <div>
        <span class="muted">Available</span> <strong data-testid="available">{credits(available)}</strong>
      </div>
    </section>
  );
}
