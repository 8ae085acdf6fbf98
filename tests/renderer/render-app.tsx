// Renders the whole dashboard against the fake agent, as a user would see it.
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach } from 'vitest';
import { App } from '../../renderer/app.js';
import { createHarness, type Harness } from './fake-agent.js';

/** Call at the top of a test file: a fresh page (no route, no stored token) for every test. */
export function freshPageForEachTest(): void {
  beforeEach(() => {
    window.sessionStorage.clear();
    window.history.replaceState(null, '', '/');
  });
  afterEach(() => {
    cleanup();
  });
}

export function renderApp(options: Parameters<typeof createHarness>[0] = {}): Harness {
  const harness = createHarness(options);
  harness.connection.start();
  render(<App connection={harness.connection} />);
  return harness;
}

/** Renders and waits until the dashboard (past loading and first run) is on screen. */
export async function renderDashboard(options: Parameters<typeof createHarness>[0] = {}): Promise<Harness> {
  const harness = renderApp(options);
  await screen.findByRole('navigation', { name: 'Main' });
  return harness;
}
