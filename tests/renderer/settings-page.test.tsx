import { fireEvent, screen, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeAgent, makeStatus } from './fake-agent.js';
import { renderDashboard, freshPageForEachTest } from './render-app.js';

freshPageForEachTest();

beforeEach(() => {
  window.history.replaceState(null, '', '/#/settings');
});

const startAtLogin = () => screen.getByRole('checkbox', { name: 'Start Offhours when I log in' }) as HTMLInputElement;

describe('settings page', () => {
  it('binds "Start Offhours when I log in" to the setting and PATCHes on change', async () => {
    const h = await renderDashboard();
    expect(screen.getByRole('heading', { name: 'Settings', level: 1 })).toBeTruthy();
    expect(startAtLogin().checked).toBe(false);

    fireEvent.click(startAtLogin());
    await waitFor(() => expect(startAtLogin().checked).toBe(true));
    expect(h.agent.mutations()).toEqual([{ method: 'PATCH', path: '/api/v1/settings', body: { startAtLogin: true } }]);
    expect(screen.queryByTestId('headless-note')).toBeNull();
  });

  it('says start-at-login applies to the desktop app only on a headless agent', async () => {
    await renderDashboard({ agent: new FakeAgent(makeStatus({ headless: true })) });
    expect(screen.getByTestId('headless-note').textContent).toMatch(/desktop app only/);
  });

  it('shows the data directory and the agent version', async () => {
    await renderDashboard();
    expect(screen.getByTestId('data-dir').textContent).toBe('/home/ada/.local/share/offhours');
    expect(screen.getByTestId('agent-version').textContent).toBe('0.1.0');
  });

  it('withdrawing consent sends the user back to the first-run screen', async () => {
    const h = await renderDashboard({ agent: new FakeAgent(makeStatus({ manual: 'on' })) });
    fireEvent.click(screen.getByRole('button', { name: 'Withdraw consent' }));
    expect(await screen.findByRole('heading', { name: 'Welcome to Offhours' })).toBeTruthy();
    expect(h.agent.mutations()).toEqual([{ method: 'PATCH', path: '/api/v1/settings', body: { consent: { accepted: false } } }]);
  });

  it('saves the Blender path the user types, refuses a relative one next to the field, and clears it back to automatic', async () => {
    const h = await renderDashboard();
    const field = () => screen.getByTestId('blender-path') as HTMLInputElement;
    expect(field().value).toBe('');
    fireEvent.change(field(), { target: { value: 'blender' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('an absolute path')).toBeTruthy();
    expect(h.agent.mutations()).toEqual([]);

    fireEvent.change(field(), { target: { value: '  /opt/blender-4.2/blender ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(h.agent.mutations()).toEqual([{ method: 'PATCH', path: '/api/v1/settings', body: { render: { blenderPath: '/opt/blender-4.2/blender' } } }]));
    await waitFor(() => expect(field().value).toBe('/opt/blender-4.2/blender'));

    fireEvent.click(await screen.findByRole('button', { name: 'Find it automatically' }));
    await waitFor(() => expect(h.agent.mutations().at(-1)).toEqual({ method: 'PATCH', path: '/api/v1/settings', body: { render: { blenderPath: null } } }));
    await waitFor(() => expect(field().value).toBe(''));
  });
});
