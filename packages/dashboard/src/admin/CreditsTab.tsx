/** Grant (or remove) credits with a note; shows the account as it is afterwards. */
import { useState } from 'preact/hooks';
import { ApiError, mutate, unwrap } from '../api/client';
import { ERROR_FIELDS } from '../api/resource-fields';
import { ErrorNote } from '../components/ErrorNote';
import { credits } from '../format';
import { graphql } from '../graphql';

const GrantMutation = graphql(
  `mutation Grant($input: GrantCreditsInput!) { grantCredits(input: $input) {
    ...ErrorFields ... on MutationGrantCreditsSuccess { data { id balance held available } } } }`,
  [ERROR_FIELDS],
);

interface Account {
  id: string;
  balance: number;
  held: number;
  available: number;
}

export function CreditsTab() {
  const [accountId, setAccountId] = useState('');
  const [amount, setAmount] = useState('100');
  const [note, setNote] = useState('');
  const [done, setDone] = useState<Account | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const grant = async (e: Event) => {
    e.preventDefault();
    try {
      const input = { accountId: accountId.trim(), amount: Number(amount), ...(note ? { note } : {}) };
      setDone(unwrap((await mutate(GrantMutation, { input })).grantCredits));
      setError(null);
    } catch (err) {
      setDone(null);
      setError(err instanceof ApiError ? err : new ApiError('ERROR', String(err)));
    }
  };
  return (
    <main>
      <h1>Grant credits</h1>
      <form class="card grid" onSubmit={grant}>
        <label for="grant-account">Account id</label>
        <input id="grant-account" value={accountId} onInput={(e) => setAccountId(e.currentTarget.value)} required />
        <label for="grant-amount">Amount (negative removes)</label>
        <input id="grant-amount" type="number" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} />
        <label for="grant-note">Note</label>
        <input id="grant-note" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
        <span />
        <button type="submit" class="primary">
          Grant credits
        </button>
      </form>
      <ErrorNote error={error} />
      {done && (
        <p role="status" data-testid="grant-result">
          {done.id} now has {credits(done.balance)} ({credits(done.available)} available, {credits(done.held)} held).
        </p>
      )}
    </main>
  );
}
