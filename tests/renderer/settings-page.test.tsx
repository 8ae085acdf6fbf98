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

describe('settings page: payouts', () => {
  const GOOD = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
  const field = () => screen.getByTestId('payout-address') as HTMLInputElement;

  it('shows a typed address back checksummed and saves it only once the user confirms it', async () => {
    const h = await renderDashboard();
    expect(screen.getByText(/never asks for, shows or stores a seed phrase/)).toBeTruthy();
    fireEvent.change(field(), { target: { value: ` ${GOOD.toLowerCase()} ` } });
    fireEvent.click(screen.getByRole('button', { name: 'Check address' }));
    expect((await screen.findByTestId('payout-confirm')).textContent).toBe(GOOD);
    expect(screen.getByText(/Is this your address\?/)).toBeTruthy();
    expect(h.agent.mutations()).toEqual([]);

    fireEvent.click(screen.getByRole('button', { name: 'Yes, pay to this address' }));
    await waitFor(() => expect(h.agent.mutations()).toEqual([{ method: 'PATCH', path: '/api/v1/settings', body: { payout: { address: GOOD } } }]));
    expect((await screen.findByTestId('payout-saved')).textContent).toContain(GOOD);
  });

  it('"No, change it" goes back to the field with nothing sent', async () => {
    const h = await renderDashboard();
    fireEvent.change(field(), { target: { value: GOOD } });
    fireEvent.click(screen.getByRole('button', { name: 'Check address' }));
    fireEvent.click(await screen.findByRole('button', { name: 'No, change it' }));
    expect(field().value).toBe(GOOD);
    expect(h.agent.mutations()).toEqual([]);
  });

  it('refuses a broken checksum or a short address next to the field, before anything is sent', async () => {
    const h = await renderDashboard();
    fireEvent.change(field(), { target: { value: GOOD.replace('aA', 'Aa') } });
    fireEvent.click(screen.getByRole('button', { name: 'Check address' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/checksum/);
    fireEvent.change(field(), { target: { value: '0x1234' } });
    fireEvent.click(screen.getByRole('button', { name: 'Check address' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/40 hex digits/);
    expect(screen.queryByTestId('payout-confirm')).toBeNull();
    expect(h.agent.mutations()).toEqual([]);
  });

  it('shows the agent’s refusal next to the field', async () => {
    const agent = new FakeAgent();
    const h = await renderDashboard({ agent });
    h.agent.override = (req) =>
      req.method === 'PATCH' ? new Response(JSON.stringify({ error: { code: 'invalid_request', message: 'no', fields: [{ path: 'payout.address', message: 'the agent says no' }] } }), { status: 400, headers: { 'content-type': 'application/json' } }) : undefined;
    fireEvent.change(field(), { target: { value: GOOD } });
    fireEvent.click(screen.getByRole('button', { name: 'Check address' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Yes, pay to this address' }));
    expect((await screen.findByRole('alert')).textContent).toBe('the agent says no');
  });

  it('shows the node’s own address as the identity hubs see, or why it cannot', async () => {
    await renderDashboard();
    expect((await screen.findByTestId('node-address')).textContent).toBe('0x8ba1f109551bD432803012645Ac136ddd64DBA72');
    expect(screen.getByText(/The address hubs see/)).toBeTruthy();
  });

  it('says the node key is locked when the agent cannot unlock it', async () => {
    const agent = new FakeAgent();
    agent.node = null;
    await renderDashboard({ agent });
    await waitFor(() => expect(screen.getByTestId('node-address-missing').textContent).toMatch(/locked/));
  });
});
