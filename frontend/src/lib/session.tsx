import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, fetchMe, keys, setUnauthorizedHandler, tokenStore, type Me } from './api';

interface Session {
  token: string | null;
  me: Me | undefined;
  /** Admins may change things; analysts and viewers only look. */
  canWrite: boolean;
  canReadEvents: boolean;
  signIn: (token: string) => Promise<void>;
  signOut: () => void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [token, setToken] = useState<string | null>(() => tokenStore.get());
  const me = useQuery({ queryKey: keys.me, queryFn: () => fetchMe(), enabled: !!token, staleTime: Infinity });

  const signOut = useCallback(() => {
    tokenStore.clear();
    setToken(null);
    client.clear();
  }, [client]);
  useEffect(() => setUnauthorizedHandler(signOut), [signOut]);

  const signIn = useCallback(async (candidate: string) => {
    // Proves the token before keeping it: any role may list networks.
    await api('/api/v1/networks', { token: candidate });
    const who = await fetchMe(candidate);
    tokenStore.set(candidate);
    client.setQueryData(keys.me, who);
    setToken(candidate);
  }, [client]);

  const value = useMemo<Session>(() => {
    const role = me.data?.role;
    return {
      token, me: me.data, signIn, signOut,
      canWrite: role === 'admin',
      canReadEvents: role === 'admin' || role === 'analyst',
    };
  }, [token, me.data, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
