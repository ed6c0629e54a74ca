import { useState, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useSession } from '../lib/session';
import { ApiError, auth, keys } from '../lib/api';

/** Where the user was going, without the sign-in outcome the server put there: the SSO round trip comes back to it. */
export function returnPath(location: Pick<Location, 'pathname' | 'search' | 'hash'> = window.location) {
  const params = new URLSearchParams(location.search);
  params.delete('signin');
  const search = params.toString();
  return `${location.pathname}${search ? `?${search}` : ''}${location.hash}`;
}

export function SignIn({ themeButton }: { themeButton: ReactNode }) {
  const { signIn } = useSession();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Anonymous; a server without the endpoint (or SSO) just offers the token form.
  const config = useQuery({ queryKey: keys.authConfig, queryFn: auth.config, retry: false, staleTime: Infinity });
  // Where the server's SSO callback sends the browser when it did not start a session.
  const outcome = new URLSearchParams(window.location.search).get('signin');
  const sso = config.data?.oidc ? (config.data.providerName || 'SSO') : null;
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
        {outcome === 'refused' && <p className="alert alert-error" role="alert">Your account is disabled or was refused.</p>}
        {outcome === 'failed' && <p className="alert alert-error" role="alert">Single sign-on did not complete. Try again.</p>}
        {sso && (
          <>
            <a className="btn btn-primary" href={auth.oidcLoginUrl(returnPath())} data-testid="sso">Sign in with {sso}</a>
            <p className="muted small divider">or</p>
          </>
        )}
        <p className="muted">Sign in with an API token. It is sent once; the browser then keeps only a session cookie, never the token.</p>
        <div className="field">
          <label htmlFor="token">API token</label>
          <input id="token" name="token" type="password" autoComplete="off" spellCheck={false} required
            placeholder="wirety_…" value={token} onChange={e => setToken(e.target.value)}
            aria-invalid={error ? true : undefined} aria-describedby={error ? 'token-error' : undefined} />
          {error && <small id="token-error" className="field-error" role="alert">{error}</small>}
        </div>
        <button className={`btn${sso ? '' : ' btn-primary'}`} type="submit" disabled={busy || !token.trim()}>{busy ? 'Signing in…' : 'Sign in'}</button>
        <p className="muted small">The bootstrap admin token is printed by the server's first start and saved to <code>.wirety/admin-token</code>.</p>
      </form>
    </main>
  );
}

/** A person the identity provider vouched for, but whom no admin has given a role yet. */
export function NoRole({ name, themeButton, onSignOut }: { name: string | undefined; themeButton: ReactNode; onSignOut: () => void }) {
  return (
    <main id="main" className="signin">
      <div className="signin-theme">{themeButton}</div>
      <div className="card signin-card">
        <h1><span className="brand-dot" aria-hidden="true" /> Wirety</h1>
        <p role="status" data-testid="no-role">Signed in as <strong>{name || 'an account without a name'}</strong>; ask an admin for a role.</p>
        <button className="btn" type="button" onClick={onSignOut}>Sign out</button>
      </div>
    </main>
  );
}
