// The sidebar: plain links to hash routes, so Tab, Enter and the browser's back button just work.
import type { Status } from '../../protocol/index.js';
import { STATE_LABEL } from '../format.js';
import { ROUTES, routeHref, type RouteId } from '../routes.js';
import { Brand } from './brand.js';
import { NavIcon } from './nav-icons.js';

export function Sidebar({ current, status, live }: { current: RouteId; status: Status; live: boolean }) {
  const state = status.sharing.state;
  return (
    <aside className="sidebar">
      <div className="sidebar-brand">
        <Brand />
      </div>
      <nav aria-label="Main" className="nav">
        <ul>
          {ROUTES.map((route) => (
            <li key={route.id}>
              <a
                href={routeHref(route.id)}
                className={`nav-link${route.id === current ? ' is-current' : ''}`}
                aria-current={route.id === current ? 'page' : undefined}
              >
                <NavIcon id={route.id} />
                <span>{route.label}</span>
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div className={`sidebar-status state-${state}${live ? '' : ' is-stale'}`}>
        <span className="state-dot" aria-hidden="true" />
        <div>
          <p className="sidebar-state">{STATE_LABEL[state]}</p>
          <p className="sidebar-host">{live ? status.agent.host : 'Reconnecting…'}</p>
        </div>
      </div>
    </aside>
  );
}
