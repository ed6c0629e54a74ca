import { useState, type ReactNode } from 'react';
import { useSession } from '../lib/session';
import { ApiError } from '../lib/api';

export function SignIn({ themeButton }: { themeButton: ReactNode }) {
  const { signIn } = useSession();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" className="signin">
      <div className="signin-theme">{themeButton}</div>
      <form
        className="card signin-card"
        onSubmit={async e => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            await signIn(token.trim());
          } catch (err) {
            setError(err instanceof ApiError && err.status === 401
              ? 'This token is not valid (unknown, revoked or expired).'
              : err instanceof Error ? err.message : String(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1><span className="brand-dot" aria-hidden="true" /> Wirety</h1>
        <p className="muted">Sign in with an API token. It is kept in this browser tab only (session storage).</p>
        <div className="field">
          <label htmlFor="token">API token</label>
          <input id="token" name="token" type="password" autoComplete="off" spellCheck={false} required
            placeholder="wirety_…" value={token} onChange={e => setToken(e.target.value)}
            aria-invalid={error ? true : undefined} aria-describedby={error ? 'token-error' : undefined} />
          {error && <small id="token-error" className="field-error" role="alert">{error}</small>}
        </div>
        <button className="btn btn-primary" type="submit" disabled={busy || !token.trim()}>{busy ? 'Signing in…' : 'Sign in'}</button>
        <p className="muted small">The bootstrap admin token is printed by the server's first start and saved to <code>.wirety/admin-token</code>.</p>
      </form>
    </main>
  );
}
