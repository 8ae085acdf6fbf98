// Hash routes (#/overview): the agent serves one page, so client-side routes need no server routes.
import { useSyncExternalStore } from 'react';

export const ROUTES = [
  { id: 'overview', label: 'Overview' },
  { id: 'jobs', label: 'Jobs' },
  { id: 'earnings', label: 'Earnings' },
  { id: 'schedule', label: 'Schedule' },
  { id: 'power', label: 'Power' },
  { id: 'storage', label: 'Storage' },
  { id: 'networks', label: 'Networks' },
  { id: 'wallet', label: 'Wallet' },
  { id: 'settings', label: 'Settings' },
] as const;

export type RouteId = (typeof ROUTES)[number]['id'];

export const DEFAULT_ROUTE: RouteId = 'overview';

export function routeHref(id: RouteId): string {
  return `#/${id}`;
}

export function routeFromHash(hash: string): RouteId {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return ROUTES.find((r) => r.id === id)?.id ?? DEFAULT_ROUTE;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

export function useHashRoute(): RouteId {
  return useSyncExternalStore(subscribe, () => routeFromHash(window.location.hash));
}

export function goTo(id: RouteId): void {
  window.location.hash = routeHref(id);
}
