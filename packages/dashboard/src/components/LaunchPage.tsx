/** Launch: the form, the live quote, a confirmation step, then the new machine's page. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, mutate, query, unwrap } from '../api/client';
import { ERROR_FIELDS } from '../api/resource-fields';
import { credits } from '../format';
import { graphql, type VariablesOf } from '../graphql';
import { initialSize, type LaunchForm, toInput } from '../launch-input';
import { navigate } from '../router';
import { Confirm } from './Confirm';
import { ErrorNote } from './ErrorNote';
import { LaunchFields, type ProvisionerChoice } from './LaunchFields';

const ProvisionersQuery = graphql(`
  query Provisioners {
    provisioners {
      name isDemo pricing capabilities
      catalog {
        imageOption sizeOption anySpec
        images { name description isDefault }
        sizes { name description vcpu memoryMb diskGb isDefault gpu { count model memoryGb } }
      }
    }
  }
`);

const QuoteQuery = graphql(
  `
  query Quote($input: CreateResourceInput!) {
    quote(input: $input) {
      ...ErrorFields
      ... on QueryQuoteSuccess { data { price available admitted reason host } }
    }
  }
`,
  [ERROR_FIELDS],
);

const CreateMutation = graphql(
  `
  mutation Create($input: CreateResourceInput!) {
    createResource(input: $input, wait: false) {
      ...ErrorFields
      ... on MutationCreateResourceSuccess { data { id name status } }
    }
  }
`,
  [ERROR_FIELDS],
);

export type CreateInput = VariablesOf<typeof QuoteQuery>['input'];
type Quote = { price: number; available: number; admitted: boolean; reason: string | null; host: string | null };

const EMPTY: LaunchForm = {
  name: '',
  provisioner: '',
  image: '',
  size: '',
  vcpu: '1',
  memoryMb: '1024',
  diskGb: '10',
  ttlHours: '1',
  labels: '',
  options: '',
};

export function LaunchPage() {
  const [form, setForm] = useState<LaunchForm>(EMPTY);
  const [provisioners, setProvisioners] = useState<ProvisionerChoice[]>([]);
  const [quote, setQuote] = useState<Quote | null>(null);
  const [quoteError, setQuoteError] = useState<ApiError | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [createError, setCreateError] = useState<ApiError | null>(null);

  useEffect(() => {
    query(ProvisionersQuery, {}).then((d) => {
      setProvisioners(d.provisioners.map((p) => ({ name: p.name, catalog: p.catalog })));
      const first = d.provisioners[0];
      setForm((f) =>
        f.provisioner ? f : { ...f, provisioner: first?.name ?? '', size: initialSize(first?.catalog ?? null) },
      );
    });
  }, []);

  const catalog = provisioners.find((p) => p.name === form.provisioner)?.catalog ?? null;
  const built = toInput(form, catalog);
  const key = JSON.stringify(built);
  // The quote follows the form: a short pause after the last keystroke, the latest answer wins.
  useEffect(() => {
    if ('problem' in built) {
      setQuote(null);
      setQuoteError(new ApiError('VALIDATION_FAILED', built.problem));
      return;
    }
    let current = true;
    const timer = setTimeout(async () => {
      try {
        const q = unwrap((await query(QuoteQuery, { input: built.input })).quote);
        if (current) [setQuote(q), setQuoteError(null)];
      } catch (e) {
        if (current) [setQuote(null), setQuoteError(e instanceof ApiError ? e : new ApiError('ERROR', String(e)))];
      }
    }, 250);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [key]);

  const launch = async () => {
    if ('problem' in built) return;
    setBusy(true);
    try {
      const created = unwrap((await mutate(CreateMutation, { input: built.input })).createResource);
      navigate('resources', created.id);
    } catch (e) {
      setConfirming(false);
      setCreateError(e instanceof ApiError ? e : new ApiError('ERROR', String(e)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main>
      <h1>Launch a machine</h1>
      <form
        class="card launch"
        onSubmit={(e) => {
          e.preventDefault();
          setCreateError(null);
          if (quote?.admitted && form.name) setConfirming(true);
        }}
      >
        <LaunchFields form={form} setForm={setForm} provisioners={provisioners} />
        <QuoteView quote={quote} error={quoteError} />
        <ErrorNote error={createError} />
        <button type="submit" class="primary" disabled={!quote?.admitted || !form.name}>
          Review and launch
        </button>
      </form>
      {confirming && quote && (
        <Confirm
          title={`Launch ${form.name}?`}
          confirmLabel="Launch"
          busy={busy}
          onConfirm={launch}
          onCancel={() => setConfirming(false)}
        >
          {'input' in built && (
            <p>
              {form.provisioner}
              {form.size ? ` ${form.size}` : ''}: {built.input.spec.vcpu} vCPU, {built.input.spec.memoryMb} MB RAM,{' '}
              {built.input.spec.diskGb} GB disk
              {form.image ? `, image ${form.image}` : ''}, for {form.ttlHours} h.
            </p>
          )}
          <p>
            Price <strong>{credits(quote.price)}</strong> of {credits(quote.available)} available.
          </p>
        </Confirm>
      )}
    </main>
  );
}

function QuoteView({ quote, error }: { quote: Quote | null; error: ApiError | null }) {
  return (
    <output class="quote" aria-live="polite" data-testid="quote">
      {error && (
        <span class="error">
          {error.code}: {error.message}
        </span>
      )}
      {quote && (
        <>
          <span>
            Price <strong data-testid="quote-price">{credits(quote.price)}</strong>
          </span>
          <span>Available {credits(quote.available)}</span>
          <span class={quote.admitted ? 'ok' : 'error'}>
            {quote.admitted ? '✓ Admitted' : `✗ Not admitted: ${quote.reason ?? 'unknown'}`}
          </span>
          {quote.host && <span>Host {quote.host}</span>}
        </>
      )}
    </output>
  );
}
