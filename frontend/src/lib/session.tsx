import { createContext, useCallback, useContext, useEffect, useMemo, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { auth, fetchMe, isStatus, keys, setCsrfToken, setUnauthorizedHandler, type Me } from './api';

/**
 * `loading`: asking the server who we are; `signed-out`: no session (the sign-in page); `no-role`: a person signed in
 * whom no admin has granted a role yet; `signed-in`: an identity with a role.
 */
export type SessionStatus = 'loading' | 'signed-out' | 'no-role' | 'signed-in';

interface Session {
  status: SessionStatus;
  me: Me | undefined;
  /** Admins may change things (in their networks); analysts and viewers only look. */
  canWrite: boolean;
  /** Admins and analysts read the event stream and the history. */
  canReadEvents: boolean;
  /** A role limited to some networks (`networkIds`); null/absent = every network. */
  scoped: boolean;
  /** Global admins manage API tokens and users and create networks. */
  isGlobalAdmin: boolean;
  /** Sends the API token once; from then on the HttpOnly session cookie carries the identity. */
  signIn: (token: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  // The session cookie is HttpOnly: only the server knows whether there is one, so GET /me decides.
  const me = useQuery<Me | null>({
    queryKey: keys.me, queryFn: () => fetchMe({ probe: true }), staleTime: Infinity,
    retry: (count, error) => !(isStatus(error, 401) || isStatus(error, 403)) && count < 2,
  });
  useEffect(() => setCsrfToken(me.data?.csrfToken ?? null), [me.data]);

  /** Forgets everything cached and shows the sign-in page (the server already ended the session). */
  const signedOut = useCallback(() => {
    setCsrfToken(null);
    client.removeQueries({ predicate: q => q.queryKey[0] !== keys.me[0] });
    client.setQueryData(keys.me, null);
  }, [client]);
  useEffect(() => setUnauthorizedHandler(signedOut), [signedOut]);

  const signIn = useCallback(async (token: string) => {
    await auth.startSession(token);
    const who = await fetchMe({ probe: true });
    setCsrfToken(who.csrfToken);
    client.removeQueries({ predicate: q => q.queryKey[0] !== keys.me[0] });
    client.setQueryData(keys.me, who);
  }, [client]);

  const signOut = useCallback(async () => {
    try { await auth.signOut(); } catch { /* the session may already be gone: the page signs out either way */ }
    signedOut();
  }, [signedOut]);

  const value = useMemo<Session>(() => {
    const who = me.data ?? undefined;
    const role = who?.role ?? null;
    const status: SessionStatus = me.isPending ? 'loading'
      : who ? (role ? 'signed-in' : 'no-role')
      // 403 from /me: authenticated, but without any role.
      : isStatus(me.error, 403) ? 'no-role' : 'signed-out';
    const scoped = !!who?.networkIds;
    return {
      status, me: who, signIn, signOut, scoped,
      canWrite: role === 'admin',
      canReadEvents: role === 'admin' || role === 'analyst',
      isGlobalAdmin: role === 'admin' && !scoped,
    };
  }, [me.isPending, me.data, me.error, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
