import { lazy, Suspense, useEffect, useState } from 'react';
import { BrowserRouter, NavLink, Route, Routes } from 'react-router';
import { QueryClient, QueryClientProvider, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, isStatus, keys, type Incident } from './lib/api';
import { SessionProvider, useSession } from './lib/session';
import { useLiveChannel, type LiveStatus } from './lib/live';
import { Loading } from './components/ui';
import { NoRole, SignIn } from './pages/SignIn';
import { Dashboard } from './pages/Dashboard';
import { Networks } from './pages/Networks';
import { NetworkDetail } from './pages/NetworkDetail';
import { Groups } from './pages/Groups';
import { Policies } from './pages/Policies';
import { RoutesPage } from './pages/Routes';
import { Incidents, IncidentDetail } from './pages/Incidents';
import { NetworkSecurityPage } from './pages/NetworkSecurity';

// Heavy or rarely used screens load on demand (the graph library lives only in these chunks).
const Topology = lazy(() => import('./pages/Topology'));
const History = lazy(() => import('./pages/History'));
const EventExplorer = lazy(() => import('./pages/EventExplorer'));
const ApiTokens = lazy(() => import('./pages/ApiTokens'));
const Users = lazy(() => import('./pages/Users'));

export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // The live channel says when data changed; no polling, no refetch on every focus.
        staleTime: 30_000,
        refetchOnWindowFocus: false,
        retry: (count, error) => !(isStatus(error, 401) || isStatus(error, 403) || isStatus(error, 404)) && count < 2,
      },
    },
  });
}

export function App({ client = makeQueryClient() }: { client?: QueryClient }) {
  return (
    <QueryClientProvider client={client}>
      <SessionProvider>
        <BrowserRouter>
          <Shell />
        </BrowserRouter>
      </SessionProvider>
    </QueryClientProvider>
  );
}

type Theme = 'light' | 'dark';
function useTheme(): [Theme, (t: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(() => {
    const saved = localStorage.getItem('wirety.theme');
    if (saved === 'light' || saved === 'dark') return saved;
    return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  });
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('wirety.theme', theme);
  }, [theme]);
  return [theme, setTheme];
}

function Shell() {
  const session = useSession();
  const [theme, setTheme] = useTheme();
  const themeButton = (
    <button type="button" className="btn btn-ghost" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
      aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
      {theme === 'dark' ? '☀' : '☾'}
    </button>
  );
  switch (session.status) {
    case 'loading': return <main id="main" className="signin"><Loading what="Signing in" /></main>;
    case 'signed-out': return <SignIn themeButton={themeButton} />;
    case 'no-role': return <NoRole name={session.me?.name} themeButton={themeButton} onSignOut={() => void session.signOut()} />;
    default: return <SignedIn themeButton={themeButton} />;
  }
}

const liveLabel: Record<LiveStatus, string> = { live: 'Live', connecting: 'Connecting…', offline: 'Reconnecting…', ended: 'Session ended: sign in again' };

function SignedIn({ themeButton }: { themeButton: React.ReactNode }) {
  const session = useSession();
  const client = useQueryClient();
  const live = useLiveChannel(client, session.me?.id ?? null);
  const open = useQuery({
    queryKey: keys.incidents({ state: 'open' }),
    queryFn: () => api<Incident[]>('/api/v1/incidents?state=open'),
  });
  const openCount = open.data?.length ?? 0;
  return (
    <>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label="Wirety home">
          <span className="brand-dot" aria-hidden="true" /> Wirety
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/" end>Dashboard</NavLink>
          <NavLink to="/networks">Networks</NavLink>
          <NavLink to="/incidents">
            Incidents{openCount > 0 && <span className="count" aria-label={`${openCount} open`}>{openCount}</span>}
          </NavLink>
          {session.canReadEvents && <NavLink to="/events">Events</NavLink>}
          {session.isGlobalAdmin && <NavLink to="/tokens">API tokens</NavLink>}
          {session.isGlobalAdmin && <NavLink to="/users">Users</NavLink>}
        </nav>
        <div className="topbar-end">
          <span className={`live live-${live}`} role="status" data-live={live} title="Live updates from the server">
            <span className="live-dot" aria-hidden="true" />{liveLabel[live]}
          </span>
          {session.me && (
            <span className="role" data-testid="identity" title={`Signed in as ${session.me.name}${session.scoped ? ` (${session.me.networkIds!.length} network${session.me.networkIds!.length === 1 ? '' : 's'})` : ''}`}>
              {session.me.role}{session.scoped && <span className="visually-hidden"> in some networks</span>}
            </span>
          )}
          {themeButton}
          <button type="button" className="btn btn-ghost" onClick={() => void session.signOut()}>Sign out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={<Dashboard />} />
            <Route path="/networks" element={<Networks />} />
            <Route path="/networks/:networkId" element={<NetworkDetail />} />
            <Route path="/networks/:networkId/groups" element={<Groups />} />
            <Route path="/networks/:networkId/policies" element={<Policies />} />
            <Route path="/networks/:networkId/routes" element={<RoutesPage />} />
            <Route path="/networks/:networkId/topology" element={<Topology />} />
            <Route path="/networks/:networkId/history" element={<History />} />
            <Route path="/networks/:networkId/security" element={<NetworkSecurityPage />} />
            <Route path="/incidents" element={<Incidents />} />
            <Route path="/incidents/:incidentId" element={<IncidentDetail />} />
            <Route path="/events" element={<EventExplorer />} />
            {session.isGlobalAdmin && <Route path="/tokens" element={<ApiTokens />} />}
            {session.isGlobalAdmin && <Route path="/users" element={<Users />} />}
            <Route path="*" element={<p>Nothing here. <NavLink to="/">Back to the dashboard</NavLink></p>} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}
