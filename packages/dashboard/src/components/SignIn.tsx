/** Sign in with a bearer token; on the embedded demo the API offers its demo token. */
import { useEffect, useState } from 'preact/hooks';
import { query } from '../api/client';
import { graphql } from '../graphql';

const DemoTokenQuery = graphql(`query DemoToken { demoToken }`);

export function SignIn({ onToken, problem }: { onToken: (token: string) => void; problem: string | null }) {
  const [token, setToken] = useState('');
  const [demo, setDemo] = useState<string | null>(null);
  useEffect(() => {
    query(DemoTokenQuery, {}).then(
      (d) => setDemo(d.demoToken ?? null),
      () => setDemo(null),
    );
  }, []);
  return (
    <main class="signin">
      <h1>Slipway</h1>
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) onToken(token.trim());
        }}
      >
        <h2>Sign in</h2>
        {problem && (
          <p class="error" role="alert">
            {problem}
          </p>
        )}
        <label for="token">API token</label>
        <textarea
          id="token"
          rows={4}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          placeholder="Paste the bearer token your operator gave you"
        />
        <div class="row">
          <button type="submit" class="primary">
            Sign in
          </button>
          {demo && (
            <button type="button" onClick={() => onToken(demo)}>
              Use the demo token
            </button>
          )}
        </div>
        {demo && <p class="muted">This server runs the embedded demo: its demo token signs you in as admin.</p>}
      </form>
    </main>
  );
}
