import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { EMPTY_PAGES } from '../../renderer/pages/empty-pages.js';
import { ROUTES } from '../../renderer/routes.js';
import { TOKEN, json } from './fake-agent.js';
import { renderApp, renderDashboard, freshPageForEachTest } from './render-app.js';

freshPageForEachTest();

describe('not authorized', () => {
  it('explains where the link comes from when there is no token, and accepts a pasted one', async () => {
    const h = renderApp({ token: null });
    expect(await screen.findByRole('heading', { name: 'Not authorized' })).toBeTruthy();
    const text = screen.getByTestId('not-authorized').textContent ?? '';
    expect(text).toContain('Open the link the agent printed');
    expect(text).toContain('offhours agent');
    expect(text).toContain('offhours status');
    expect(h.agent.requests).toEqual([]);

    fireEvent.change(screen.getByLabelText('Or paste the access token'), { target: { value: TOKEN } });
    fireEvent.click(screen.getByRole('button', { name: 'Use this token' }));
    expect(await screen.findByRole('navigation', { name: 'Main' })).toBeTruthy();
  });

  it('says the token was refused when the agent answers 401', async () => {
    renderApp({ token: 'from-another-machine' });
    await screen.findByRole('heading', { name: 'Not authorized' });
    expect(screen.getByTestId('not-authorized').textContent).toMatch(/did not accept/);
  });
});

describe('loading and errors', () => {
  it('shows a loading state until the agent answers', async () => {
    const h = renderApp({ deps: {} });
    const release = h.agent.hold();
    expect(await screen.findByTestId('loading')).toBeTruthy();
    release();
    expect(await screen.findByRole('navigation', { name: 'Main' })).toBeTruthy();
  });

  it('shows an error with a Retry button that works', async () => {
    const h = renderApp();
    h.agent.override = () => json({ unexpected: true });
    expect(await screen.findByTestId('connection-error')).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toMatch(/does not understand/);

    h.agent.override = null;
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('navigation', { name: 'Main' })).toBeTruthy();
  });

  it('keeps the last status visible but marked stale while disconnected, and recovers', async () => {
    const h = await renderDashboard();
    h.socket().accept(h.agent.status);
    expect(screen.queryByTestId('connection-banner')).toBeNull();

    h.socket().drop(1006);
    const banner = await screen.findByTestId('connection-banner');
    expect(banner.textContent).toContain('Lost connection to the Offhours agent — retrying…');
    expect(screen.getByTestId('sharing-state').textContent).toBe('Off');
    expect(screen.getByTestId('status-stale')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Turn sharing on' }) as HTMLButtonElement).disabled).toBe(true);

    h.agent.setMode('on');
    h.timers.runAll();
    await waitFor(() => expect(h.sockets).toHaveLength(2));
    h.socket().accept(h.agent.status);
    await waitFor(() => expect(screen.queryByTestId('connection-banner')).toBeNull());
    expect(screen.queryByTestId('status-stale')).toBeNull();
    expect(screen.getByTestId('sharing-state').textContent).toBe('Sharing');
  });
});

describe('navigation', () => {
  it('lists every section as a link to its hash route and marks the current one', async () => {
    await renderDashboard();
    const nav = screen.getByRole('navigation', { name: 'Main' });
    const links = within(nav).getAllByRole('link');
    expect(links.map((a) => a.textContent)).toEqual(ROUTES.map((r) => r.label));
    expect(links.map((a) => a.getAttribute('href'))).toEqual(ROUTES.map((r) => `#/${r.id}`));
    expect(within(nav).getByRole('link', { name: 'Overview' }).getAttribute('aria-current')).toBe('page');
  });

  it('follows the hash and moves focus to the new page heading', async () => {
    await renderDashboard();
    window.location.hash = '#/jobs';
    const heading = await screen.findByRole('heading', { name: 'Jobs', level: 1 });
    await waitFor(() => expect(document.activeElement).toBe(heading));
    expect(within(screen.getByRole('navigation', { name: 'Main' })).getByRole('link', { name: 'Jobs' }).getAttribute('aria-current')).toBe('page');
  });

  it.each(Object.entries(EMPTY_PAGES))('the %s page is an honest empty state', async (id, page) => {
    window.history.replaceState(null, '', `/#/${id}`);
    await renderDashboard();
    expect(screen.getByRole('heading', { name: page.title, level: 1 })).toBeTruthy();
    const empty = screen.getByTestId('empty-state');
    expect(empty.textContent).toContain(page.empty);
    expect(empty.textContent).toMatch(/not built yet/);
    // No invented figures: an empty page shows no amounts, counts or currency.
    expect(empty.textContent).not.toMatch(/\d|[$€£]/);
  });

  it('the Jobs page says no work has run', async () => {
    window.history.replaceState(null, '', '/#/jobs');
    await renderDashboard();
    expect(screen.getByText('No jobs yet. Offhours has not run any work on this machine.')).toBeTruthy();
  });

  it('an unknown route shows the overview', async () => {
    window.history.replaceState(null, '', '/#/nowhere');
    await renderDashboard();
    expect(screen.getByRole('heading', { name: 'Overview', level: 1 })).toBeTruthy();
  });
});
