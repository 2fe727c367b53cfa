/** The shell: sign-in gate, header (nav, credits, live state, sign out) and the routed page. */
import { useEffect, useState } from 'preact/hooks';
import { AdminPage } from '../admin/AdminPage';
import { query, tokenStore, useToken } from '../api/client';
import { startLive, stopLive } from '../api/live';
import { href, useRoute } from '../router';
import { LaunchPage } from './LaunchPage';
import { LiveIndicator } from './LiveIndicator';
import { ResourcePage } from './ResourcePage';
import { ResourcesPage } from './ResourcesPage';
import { SignIn } from './SignIn';
import { MeQuery, Wallet } from './Wallet';

interface Session {
  token: string;
  id: string;
  admin: boolean;
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [checking, setChecking] = useState(tokenStore.get() !== null);

  const signIn = async (token: string) => {
    useToken(token);
    try {
      const { me } = await query(MeQuery, {});
      tokenStore.set(token);
      startLive(token);
      setProblem(null);
      setSession({ token, id: me.id, admin: me.role === 'ADMIN' });
    } catch (e) {
      useToken(null);
      tokenStore.clear();
      setProblem(`That token was refused: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setChecking(false);
    }
  };
  const signOut = () => {
    stopLive();
    tokenStore.clear();
    useToken(null);
    setSession(null);
    location.hash = '';
  };
  useEffect(() => {
    const saved = tokenStore.get();
    if (saved) void signIn(saved);
  }, []);

  if (checking) return <p class="muted pad">Signing in…</p>;
  if (!session) return <SignIn onToken={signIn} problem={problem} />;
  return (
    <>
      <header class="top">
        <a class="brand" href={href()}>
          Slipway
        </a>
        <nav aria-label="Main">
          <a href={href()}>Machines</a>
          <a href={href('launch')}>Launch</a>
          {session.admin && <a href={href('admin')}>Admin</a>}
        </nav>
        <Wallet />
        <LiveIndicator />
        <span class="muted" title="Signed in as">
          {session.id}
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <Routes admin={session.admin} />
    </>
  );
}

function Routes({ admin }: { admin: boolean }) {
  const [page, arg, sub] = useRoute();
  if (page === 'launch') return <LaunchPage />;
  if (page === 'resources' && arg) return <ResourcePage id={arg} />;
  if (page === 'admin') return admin ? <AdminPage tab={arg ?? 'resources'} sub={sub} /> : <NotAllowed />;
  return <ResourcesPage />;
}

function NotAllowed() {
  return (
    <main>
      <p class="error" role="alert">
        Admin pages need an admin token.
      </p>
    </main>
  );
}
