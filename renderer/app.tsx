// The app shell: picks the screen from the connection's phase and consent, then the page from the route.
import { useEffect, useRef } from 'react';
import type { Settings, Status } from '../protocol/index.js';
import type { AgentConnection } from './agent-connection.js';
import { ActionErrorAlert, ConnectionBanner } from './components/feedback.js';
import { Sidebar } from './components/sidebar.js';
import { EarningsPage } from './pages/earnings-page.js';
import { EmptyPage } from './pages/empty-pages.js';
import { JobsPage } from './pages/jobs-page.js';
import { OverviewPage } from './pages/overview-page.js';
import { PowerPage } from './pages/power-page.js';
import { SchedulePage } from './pages/schedule-page.js';
import { SettingsPage } from './pages/settings-page.js';
import { StoragePage } from './pages/storage-page.js';
import { NetworksPage } from './pages/networks-page.js';
import { useHashRoute, type RouteId } from './routes.js';
import { ErrorScreen, LoadingScreen, NotAuthorizedScreen } from './screens/connection-screens.js';
import { FirstRunScreen } from './screens/first-run-screen.js';
import { AgentProvider, useAgent } from './use-agent.js';

export function App({ connection }: { connection: AgentConnection }) {
  return (
    <AgentProvider connection={connection}>
      <Root />
    </AgentProvider>
  );
}

function Root() {
  const { state } = useAgent();
  if (state.phase === 'unauthorized') return <NotAuthorizedScreen />;
  if (state.phase === 'error') return <ErrorScreen />;
  if (!state.status) return <LoadingScreen />;
  if (state.status.consent.required) return <FirstRunScreen status={state.status} />;
  return <Dashboard status={state.status} settings={state.settings} live={state.phase === 'connected'} />;
}

function Page({ route, status, settings }: { route: RouteId; status: Status; settings: Settings | undefined }) {
  switch (route) {
    case 'overview':
      return <OverviewPage status={status} />;
    case 'jobs':
      return <JobsPage />;
    case 'earnings':
      return <EarningsPage />;
    case 'power':
      return <PowerPage />;
    case 'storage':
      return <StoragePage />;
    case 'networks':
      return <NetworksPage />;
    case 'schedule':
      return <SchedulePage status={status} settings={settings} />;
    case 'settings':
      return <SettingsPage status={status} settings={settings} />;
    default:
      return <EmptyPage id={route} />;
  }
}

function Dashboard({ status, settings, live }: { status: Status; settings: Settings | undefined; live: boolean }) {
  const route = useHashRoute();
  const mainRef = useRef<HTMLElement>(null);
  const firstRoute = useRef(route);

  useEffect(() => {
    // Move focus to the new page's heading after navigation (not on first load, where it would
    // steal focus from the browser): keyboard and screen reader users land on what changed.
    if (route === firstRoute.current) return;
    firstRoute.current = route;
    mainRef.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route]);

  return (
    <div className="shell">
      <Sidebar current={route} status={status} live={live} />
      <main className="content" ref={mainRef}>
        <ConnectionBanner />
        <ActionErrorAlert />
        <Page route={route} status={status} settings={settings} />
      </main>
    </div>
  );
}
