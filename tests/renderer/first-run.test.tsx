import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { CONSENT_VERSION } from '../../protocol/index.js';
import { FakeAgent, json, makeStatus } from './fake-agent.js';
import { renderApp, freshPageForEachTest } from './render-app.js';

freshPageForEachTest();

const AGREE_AND_SHARE = 'I agree — start sharing when idle';
const AGREE_KEEP_OFF = 'I agree, but keep sharing off for now';

function firstRunAgent(options: { headless?: boolean } = {}) {
  return new FakeAgent(makeStatus({ consentRequired: true, ...options }));
}

describe('first-run screen', () => {
  it('says plainly what Offhours will do before asking', async () => {
    renderApp({ agent: firstRunAgent() });
    expect(await screen.findByRole('heading', { name: 'Welcome to Offhours' })).toBeTruthy();
    const text = document.body.textContent ?? '';
    for (const phrase of [/render and AI jobs/i, /GPU and CPU/, /idle/, /encrypted/, /folder you choose/, /size cap/, /measures/, /game starts/, /seed phrase/, /tray/]) {
      expect(text).toMatch(phrase);
    }
    expect(screen.queryByRole('navigation', { name: 'Main' })).toBeNull();
  });

  it('"start sharing" sends consent with start-at-login, then turns sharing on, and shows the dashboard', async () => {
    const h = renderApp({ agent: firstRunAgent() });
    const checkbox = await screen.findByRole('checkbox', { name: 'Start Offhours when I log in' });
    expect((checkbox as HTMLInputElement).checked).toBe(true);

    fireEvent.click(screen.getByRole('button', { name: AGREE_AND_SHARE }));

    expect(await screen.findByRole('heading', { name: 'Overview' })).toBeTruthy();
    expect(h.agent.mutations()).toEqual([
      { method: 'PATCH', path: '/api/v1/settings', body: { consent: { accepted: true, version: CONSENT_VERSION }, startAtLogin: true } },
      { method: 'POST', path: '/api/v1/sharing', body: { mode: 'on' } },
    ]);
    expect(screen.getByTestId('sharing-state').textContent).toBe('Sharing');
    expect(window.location.hash).toBe('#/overview');
  });

  it('"keep sharing off" only records consent, with the checkbox as the user left it', async () => {
    const h = renderApp({ agent: firstRunAgent() });
    fireEvent.click(await screen.findByRole('checkbox', { name: 'Start Offhours when I log in' }));
    fireEvent.click(screen.getByRole('button', { name: AGREE_KEEP_OFF }));

    expect(await screen.findByRole('heading', { name: 'Overview' })).toBeTruthy();
    expect(h.agent.mutations()).toEqual([
      { method: 'PATCH', path: '/api/v1/settings', body: { consent: { accepted: true, version: CONSENT_VERSION }, startAtLogin: false } },
    ]);
    expect(screen.getByTestId('sharing-state').textContent).toBe('Off');
  });

  it('disables both buttons while the consent is being sent', async () => {
    const h = renderApp({ agent: firstRunAgent() });
    const agree = await screen.findByRole('button', { name: AGREE_KEEP_OFF });
    const release = h.agent.hold();
    fireEvent.click(agree);
    await waitFor(() => expect((agree as HTMLButtonElement).disabled).toBe(true));
    expect((screen.getByRole('button', { name: AGREE_AND_SHARE }) as HTMLButtonElement).disabled).toBe(true);
    release();
    expect(await screen.findByRole('heading', { name: 'Overview' })).toBeTruthy();
  });

  it('stays on the first-run screen and shows why when the agent refuses', async () => {
    const h = renderApp({ agent: firstRunAgent() });
    const agree = await screen.findByRole('button', { name: AGREE_AND_SHARE });
    h.agent.override = (req) =>
      req.method === 'PATCH'
        ? json({ error: { code: 'invalid_request', message: 'The settings could not be saved.', fields: [{ path: 'consent.version', message: 'unknown version' }] } }, 400)
        : undefined;
    fireEvent.click(agree);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The settings could not be saved.');
    expect(within(alert).getByText('consent.version')).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Welcome to Offhours' })).toBeTruthy();
    expect(h.agent.mutations().filter((m) => m.method === 'POST')).toEqual([]);
  });

  it('on a headless agent, leaves start-at-login off and says it applies to the desktop app only', async () => {
    renderApp({ agent: firstRunAgent({ headless: true }) });
    const checkbox = (await screen.findByRole('checkbox', { name: 'Start Offhours when I log in' })) as HTMLInputElement;
    expect(checkbox.checked).toBe(false);
    expect(document.body.textContent).toMatch(/applies only when you use the desktop app/);
  });
});
