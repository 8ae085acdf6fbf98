import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { FakeAgent, makeDecision, makeStatus } from './fake-agent.js';
import { renderDashboard, freshPageForEachTest } from './render-app.js';

freshPageForEachTest();

const button = (name: string) => screen.getByRole('button', { name }) as HTMLButtonElement;
const sharingButtons = () =>
  within(screen.getByRole('group', { name: 'Sharing control' })).getAllByRole('button') as HTMLButtonElement[];

describe('overview', () => {
  it('shows the state word, the reason and the problems the agent reports', async () => {
    const status = makeStatus();
    status.problems = [
      { code: 'settings_kept_aside', text: 'Your settings file could not be read; it was kept as settings.json.broken-2025-01-06.', at: status.updatedAt },
    ];
    await renderDashboard({ agent: new FakeAgent(status) });

    expect(screen.getByTestId('sharing-state').textContent).toBe('Off');
    expect(screen.getByTestId('sharing-reason').textContent).toBe('You turned sharing off.');
    const problems = screen.getAllByTestId('problem');
    expect(problems).toHaveLength(1);
    expect(problems[0]?.textContent).toContain('kept as settings.json.broken-2025-01-06');
  });

  it('turns sharing on, with every control disabled while the request is in flight', async () => {
    const h = await renderDashboard();
    expect(screen.queryByRole('button', { name: 'Turn sharing off' })).toBeNull();

    const release = h.agent.hold();
    fireEvent.click(button('Turn sharing on'));
    await waitFor(() => expect(button('Turn sharing on').disabled).toBe(true));
    expect(button('Turn sharing on').getAttribute('aria-busy')).toBe('true');
    release();

    await screen.findByRole('button', { name: 'Turn sharing off' });
    expect(screen.getByTestId('sharing-state').textContent).toBe('Sharing');
    expect(sharingButtons().every((b) => !b.disabled)).toBe(true);
    expect(h.agent.mutations()).toEqual([{ method: 'POST', path: '/api/v1/sharing', body: { mode: 'on' } }]);
  });

  it('turns sharing off', async () => {
    const h = await renderDashboard({ agent: new FakeAgent(makeStatus({ manual: 'on' })) });
    fireEvent.click(button('Turn sharing off'));
    await screen.findByRole('button', { name: 'Turn sharing on' });
    expect(h.agent.mutations()).toEqual([{ method: 'POST', path: '/api/v1/sharing', body: { mode: 'off' } }]);
    expect(screen.getByTestId('sharing-state').textContent).toBe('Off');
  });

  it('snoozes for one hour and shows until when', async () => {
    const h = await renderDashboard({ agent: new FakeAgent(makeStatus({ manual: 'on' })) });
    const before = Date.now();
    fireEvent.click(button('Snooze 1 hour'));
    await screen.findByTestId('snooze-until');

    const [request] = h.agent.mutations();
    const body = request?.body as { mode: string; until: string };
    expect(body.mode).toBe('snooze');
    const until = Date.parse(body.until);
    expect(until - before).toBeGreaterThanOrEqual(60 * 60 * 1000);
    expect(until - Date.now()).toBeLessThanOrEqual(60 * 60 * 1000);
    expect(screen.getByTestId('sharing-state').textContent).toBe('Paused');
    expect(screen.getByTestId('snooze-until').querySelector('time')?.getAttribute('datetime')).toBe(body.until);
  });

  it('asks the agent to finish current work, then stop', async () => {
    const h = await renderDashboard({ agent: new FakeAgent(makeStatus({ manual: 'on' })) });
    fireEvent.click(button('Finish current work, then stop'));
    await waitFor(() => expect(screen.getByTestId('sharing-state').textContent).toBe('Draining'));
    expect(h.agent.mutations()).toEqual([{ method: 'POST', path: '/api/v1/sharing', body: { mode: 'drain' } }]);
  });

  it('follows status pushed over the events socket', async () => {
    const h = await renderDashboard();
    h.socket().accept(h.agent.status);
    h.agent.setMode('on');
    h.socket().receive({ type: 'status', status: h.agent.status });
    await waitFor(() => expect(screen.getByTestId('sharing-state').textContent).toBe('Sharing'));
    expect(screen.getByTestId('sharing-reason').textContent).toBe('This computer is idle, so it is sharing.');
  });

  it('shows the agent refusing a change as an alert', async () => {
    const status = makeStatus();
    const h = await renderDashboard({ agent: new FakeAgent(status) });
    // The tray withdrew consent behind the dashboard's back, before a push arrived.
    h.agent.status = { ...h.agent.status, consent: { ...h.agent.status.consent, required: true } };
    fireEvent.click(button('Turn sharing on'));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Finish the first-run screen before sharing.');
    fireEvent.click(within(alert).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('overview: the decision', () => {
  const decision = () =>
    makeDecision(
      [
        { resource: 'cpu', state: 'limited', reason: 'Sharing the CPU within limits (rule “Evenings”)', limits: { cpuCores: 4, cpuPercent: 50 } },
        { resource: 'gpu:0', label: 'GPU 0 (RTX 4070)', state: 'released', reason: 'Paused: Cyberpunk2077.exe is running' },
        { resource: 'disk', state: 'paused', reason: 'Paused: outside your schedule (next window today at 22:00)' },
      ],
      [{ target: 'gpu', ruleId: 'main', condition: 'temperatureBelow', signal: 'gpuTemperature@gpu:0', note: 'no GPU temperature sensor on this machine', choice: 'ask' }],
    );

  it('shows the summary as the reason, a row per resource with its state, first reason and limits', async () => {
    await renderDashboard({ agent: new FakeAgent(makeStatus({ manual: 'on', decision: decision() })) });
    expect(screen.getByTestId('sharing-reason').textContent).toBe('Sharing CPU');
    const rows = screen.getAllByTestId('resource-row');
    expect(rows.map((r) => r.getAttribute('data-resource'))).toEqual(['cpu', 'gpu:0', 'disk']);
    expect(rows.map((r) => within(r).getByTestId('resource-state').textContent)).toEqual(['Limited', 'Stopped', 'Paused']);
    expect(within(rows[1]!).getByTestId('resource-reason').textContent).toBe('Paused: Cyberpunk2077.exe is running');
    expect(rows[1]!.textContent).toContain('GPU 0 (RTX 4070)');
    expect(within(rows[0]!).getByTestId('resource-limits').textContent).toBe('Limited to 4 cores · 50 % of the CPU');
    expect(within(rows[2]!).queryByTestId('resource-limits')).toBeNull();
  });

  it('lists the conditions this machine can’t check, with a link to the Schedule page', async () => {
    await renderDashboard({ agent: new FakeAgent(makeStatus({ manual: 'on', decision: decision() })) });
    const card = screen.getByTestId('overview-uncheckable');
    expect(within(card).getByTestId('overview-uncheckable-item').textContent).toMatch(
      /GPU temperature \(GPU 0\) can’t be checked on this machine — no GPU temperature sensor on this machine\..*waiting for your choice/,
    );
    const link = within(card).getByRole('link', { name: 'Choose in Schedule' });
    expect(link.getAttribute('href')).toBe('#/schedule');
    fireEvent.click(link);
  });

  it('follows decision changes pushed over the events socket', async () => {
    const agent = new FakeAgent(makeStatus({ manual: 'on', decision: makeDecision([{ resource: 'cpu', state: 'running', reason: 'Sharing the CPU (rule “Main rule”)' }]) }));
    const h = await renderDashboard({ agent });
    h.socket().accept(h.agent.status);
    expect(screen.getByTestId('sharing-reason').textContent).toBe('Sharing CPU');
    h.agent.setDecision(makeDecision([{ resource: 'cpu', state: 'released', reason: 'Paused: Cyberpunk2077.exe is running' }]));
    h.socket().receive({ type: 'status', status: h.agent.status });
    await waitFor(() => expect(screen.getByTestId('sharing-reason').textContent).toBe('Paused: Cyberpunk2077.exe is running'));
    expect(screen.getByTestId('resource-reason').textContent).toBe('Paused: Cyberpunk2077.exe is running');
  });

  it('without a decision, shows the sharing reason and no resource rows', async () => {
    await renderDashboard({ agent: new FakeAgent(makeStatus({ manual: 'on' })) });
    expect(screen.getByTestId('sharing-reason').textContent).toBe('This computer is idle, so it is sharing.');
    expect(screen.queryByTestId('decision')).toBeNull();
  });
});
