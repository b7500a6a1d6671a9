// The console's shell: sign-in, navigation, routes (in the URL's fragment,
// so the server serves one page), the stream's state.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { APIError, auth, request, setUnauthorizedHandler } from './api';
import { live } from './live';
import { route, type Route } from './router';
import './style.css';
import { ErrorText, useLiveState } from './ui';
import { CatalogList, TemplatePage } from './views/catalog';
import { ExperimentPage, Experiments } from './views/experiments';
import { Fleet } from './views/fleet';
import { HostPage } from './views/host';
import { Pipelines } from './views/pipelines';

function SignIn({ onDone, reason }: { onDone: (t: string) => void; reason?: string }) {
  const [tok, setTok] = useState('');
  const [err, setErr] = useState(reason ?? '');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr('');
    try {
      await request('GET', '/api/v1/info', undefined, tok.trim());
      onDone(tok.trim());
    } catch (x) {
      setErr(x instanceof APIError && x.status === 401 ? 'The server refused this token. Use the content of the server\'s api-token file.' : String((x as Error).message));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>Phoenix</h1>
      <form onSubmit={submit} class="stack" data-testid="signin-form">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required value={tok} onInput={(e) => setTok(e.currentTarget.value)} autofocus />
        <p class="muted small">The token is in the server's data directory, file <code>api-token</code>. It stays in this browser tab only.</p>
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
        <ErrorText text={err} />
      </form>
    </main>
  );
}

const nav: { href: string; label: string; match: Route['view'][] }[] = [
  { href: '#/', label: 'Deployed pipelines', match: ['pipelines', 'host'] },
  { href: '#/catalog', label: 'Catalog', match: ['catalog', 'template'] },
  { href: '#/experiments', label: 'Experiments', match: ['experiments', 'experiment'] },
  { href: '#/fleet', label: 'Fleet and load', match: ['fleet'] },
];

function useRoute(): Route {
  const [r, setR] = useState(() => route(location.hash));
  useEffect(() => {
    const f = () => setR(route(location.hash));
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  return r;
}

function StreamBadge() {
  useLiveState();
  return (
    <span class={'stream s-' + live.streamState} data-testid="stream-state" role="status">
      live: {live.streamState}
    </span>
  );
}

// The snapshot's load error; only this re-renders on stream news, not the
// whole shell and its view.
function LoadError() {
  useLiveState();
  return <ErrorText text={live.loadError} />;
}

function Shell({ signOut }: { signOut: () => void }) {
  const r = useRoute();
  useEffect(() => {
    const h = document.querySelector<HTMLElement>('main h1');
    document.title = (h?.textContent ?? 'Console') + ' · Phoenix';
  });
  let body;
  switch (r.view) {
    case 'host': body = <HostPage host={r.arg} />; break;
    case 'catalog': body = <CatalogList />; break;
    case 'template': body = <TemplatePage name={r.arg} />; break;
    case 'experiments': body = <Experiments />; break;
    case 'experiment': body = <ExperimentPage id={r.arg} />; break;
    case 'fleet': body = <Fleet />; break;
    default: body = <Pipelines />;
  }
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Phoenix</span>
        <nav aria-label="Views">
          <ul>
            {nav.map((n) => (
              <li>
                <a href={n.href} aria-current={n.match.includes(r.view) ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <StreamBadge />
        <button type="button" class="small" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <LoadError />
        {body}
      </main>
    </>
  );
}

function App() {
  const [token, setToken] = useState(auth.get());
  const [reason, setReason] = useState('');
  useEffect(() => {
    setUnauthorizedHandler(() => {
      auth.clear();
      live.stop();
      setReason('The server no longer accepts the token: sign in again.');
      setToken('');
    });
  }, []);
  useEffect(() => {
    if (token) live.start(token);
    return () => live.stop();
  }, [token]);
  if (!token)
    return (
      <SignIn
        reason={reason}
        onDone={(t) => {
          auth.set(t);
          setReason('');
          setToken(t);
        }}
      />
    );
  return (
    <Shell
      signOut={() => {
        auth.clear();
        setToken('');
      }}
    />
  );
}

render(<App />, document.getElementById('app')!);
