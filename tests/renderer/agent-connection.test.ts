import { describe, expect, it, vi } from 'vitest';
import { CONSENT_VERSION, WS_CLOSE, WS_PROTOCOL } from '../../protocol/index.js';
import { eventsUrl, reconnectDelay, RECONNECT_MAX_MS } from '../../renderer/agent-connection.js';
import { BASE_URL, createHarness, FakeAgent, json, makeDecision, makeJob, makeProgress, makeStatus, PIECE_A, PIECE_B, TOKEN } from './fake-agent.js';

async function connected(h: ReturnType<typeof createHarness>) {
  h.connection.start();
  await vi.waitFor(() => expect(h.connection.getSnapshot().phase).toBe('connected'));
}

describe('agent connection: loading', () => {
  it('loads status and settings with the bearer token, then authenticates the socket by its first message', async () => {
    const h = createHarness();
    await connected(h);

    const state = h.connection.getSnapshot();
    expect(state.status).toEqual(h.agent.status);
    expect(state.settings).toEqual(h.agent.settings);
    // The job list follows, on its own: a failure there does not stop the dashboard.
    await vi.waitFor(() => expect(h.connection.getSnapshot().jobs).toEqual([]));
    expect(h.agent.requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual(['GET /api/v1/jobs', 'GET /api/v1/settings', 'GET /api/v1/status']);
    expect(h.agent.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(h.agent.requests.every((r) => r.url.startsWith(`${BASE_URL}/api/v1/`))).toBe(true);

    const socket = h.socket();
    expect(socket.url).toBe('ws://127.0.0.1:47823/api/v1/events');
    expect(socket.url).not.toContain(TOKEN);
    expect(socket.protocols).toEqual([WS_PROTOCOL]);
    expect(socket.sent).toEqual([]);
    socket.open();
    expect(socket.sent).toEqual([{ type: 'auth', token: TOKEN }]);
  });

  it('derives a wss URL for an https origin', () => {
    expect(eventsUrl('https://box.example:8443/')).toBe('wss://box.example:8443/api/v1/events');
  });

  it('is unauthorized without asking the agent when there is no token', async () => {
    const h = createHarness({ token: null });
    h.connection.start();
    await vi.waitFor(() => expect(h.connection.getSnapshot().phase).toBe('unauthorized'));
    expect(h.connection.getSnapshot().auth).toBe('missing');
    expect(h.agent.requests).toEqual([]);
  });

  it('turns a 401 into the unauthorized phase', async () => {
    const h = createHarness({ token: 'stale-token' });
    h.connection.start();
    await vi.waitFor(() => expect(h.connection.getSnapshot().phase).toBe('unauthorized'));
    expect(h.connection.getSnapshot().auth).toBe('rejected');
    expect(h.sockets).toEqual([]);
  });

  it('a response that fails the schema is an error state with a reason, and retry() recovers', async () => {
    const h = createHarness();
    h.agent.override = (req) => (req.path.endsWith('/status') ? json({ agent: 'nope' }) : undefined);
    h.connection.start();
    await vi.waitFor(() => expect(h.connection.getSnapshot().phase).toBe('error'));
    expect(h.connection.getSnapshot().lastError).toMatch(/GET \/api\/v1\/status .* does not understand \(agent/);

    h.agent.override = null;
    h.connection.retry();
    expect(h.connection.getSnapshot().phase).toBe('loading');
    await vi.waitFor(() => expect(h.connection.getSnapshot().phase).toBe('connected'));
  });

  it('an agent that cannot be reached on first load is an error state', async () => {
    const h = createHarness({
      deps: { fetch: () => Promise.reject(new TypeError('Failed to fetch')) },
    });
    h.connection.start();
    await vi.waitFor(() => expect(h.connection.getSnapshot().phase).toBe('error'));
    expect(h.connection.getSnapshot().lastError).toBe('Could not reach the Offhours agent.');
  });
});

describe('agent connection: events socket', () => {
  it('applies status pushes, and ignores one older than what it has', async () => {
    const h = createHarness();
    await connected(h);
    const socket = h.socket();
    socket.accept(h.agent.status);

    h.agent.setMode('on');
    socket.receive({ type: 'status', status: h.agent.status });
    expect(h.connection.getSnapshot().status?.sharing.state).toBe('sharing');

    // An answer that crossed a newer push on the wire: same agent run, lower revision. Its clock
    // time is later, which must not matter.
    const older = { ...h.agent.status, sharing: makeStatus().sharing, revision: h.agent.status.revision - 1, updatedAt: '2099-01-01T00:00:00.000Z' };
    socket.receive({ type: 'status', status: older });
    expect(h.connection.getSnapshot().status?.sharing.state).toBe('sharing');
  });

  it('reloads settings when a push says they changed elsewhere', async () => {
    const h = createHarness();
    await connected(h);
    const socket = h.socket();
    socket.accept(h.agent.status);
    const gets = () => h.agent.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/settings')).length;
    const before = gets();
    // Another window saved: the agent's settings moved on.
    h.agent.settings = { ...h.agent.settings, startAtLogin: !h.agent.settings.startAtLogin };
    socket.receive({ type: 'status', status: { ...h.agent.status, revision: h.agent.status.revision + 1, settingsRevision: h.agent.status.settingsRevision + 1 } });
    await vi.waitFor(() => expect(h.connection.getSnapshot().settings?.startAtLogin).toBe(h.agent.settings.startAtLogin));
    expect(gets()).toBe(before + 1);
    // A push with no settings change fetches nothing.
    socket.receive({ type: 'status', status: { ...h.agent.status, revision: h.agent.status.revision + 2, settingsRevision: h.agent.status.settingsRevision + 1 } });
    await Promise.resolve();
    expect(gets()).toBe(before + 1);
  });

  it('survives messages that are not JSON or do not match the protocol, and keeps going', async () => {
    const h = createHarness();
    await connected(h);
    const socket = h.socket();
    socket.accept(h.agent.status);
    const before = h.connection.getSnapshot().status;

    socket.receive('{not json');
    socket.receive({ type: 'status', status: { sharing: 'yes' } });
    socket.receive({ type: 'surprise' });
    const state = h.connection.getSnapshot();
    expect(state.phase).toBe('connected');
    expect(state.status).toBe(before);
    expect(state.lastError).toMatch(/does not match the protocol/);
    expect(h.warn).toHaveBeenCalledTimes(3);

    h.agent.setMode('on');
    socket.receive({ type: 'status', status: h.agent.status });
    expect(h.connection.getSnapshot().status?.sharing.state).toBe('sharing');
  });

  it('goes disconnected with the last status kept when the socket drops, then reconnects', async () => {
    const h = createHarness();
    await connected(h);
    const first = h.socket();
    first.accept(h.agent.status);

    first.drop(1006);
    let state = h.connection.getSnapshot();
    expect(state.phase).toBe('disconnected');
    expect(state.status).toEqual(h.agent.status);
    expect(h.timers.waiting()).toEqual([500]);

    // The agent changed while we were away; the reload picks it up.
    h.agent.setMode('on');
    h.timers.runAll();
    await vi.waitFor(() => expect(h.sockets).toHaveLength(2));
    // Loaded over HTTP, but not live until the new socket delivers.
    expect(h.connection.getSnapshot().phase).toBe('disconnected');
    h.socket().accept(h.agent.status);
    state = h.connection.getSnapshot();
    expect(state.phase).toBe('connected');
    expect(state.status?.sharing.state).toBe('sharing');
    expect(h.socket().sent).toEqual([{ type: 'auth', token: TOKEN }]);
  });

  it('backs off exponentially up to a cap while the agent stays away, and starts over once back', async () => {
    const h = createHarness();
    await connected(h);
    h.socket().accept(h.agent.status);
    h.agent.reachable = false;

    h.socket().drop(1006);
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const waiting = h.timers.waiting();
      expect(waiting).toHaveLength(1);
      delays.push(waiting[0]!);
      h.timers.runAll();
      await vi.waitFor(() => expect(h.timers.waiting()).toHaveLength(1));
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(h.connection.getSnapshot().phase).toBe('disconnected');
    expect(h.connection.getSnapshot().status).toBeDefined();
    expect(reconnectDelay(50)).toBe(RECONNECT_MAX_MS);

    h.agent.reachable = true;
    h.timers.runAll();
    await vi.waitFor(() => expect(h.sockets).toHaveLength(2));
    h.socket().accept(h.agent.status);
    expect(h.connection.getSnapshot().phase).toBe('connected');
    h.socket().drop();
    expect(h.timers.waiting()).toEqual([500]);
  });

  it('goes unauthorized when the agent closes the socket for a bad token', async () => {
    const h = createHarness();
    await connected(h);
    h.socket().open();
    h.socket().drop(WS_CLOSE.unauthorized, 'unauthorized');
    const state = h.connection.getSnapshot();
    expect(state.phase).toBe('unauthorized');
    expect(state.auth).toBe('rejected');
    expect(h.timers.waiting()).toEqual([]);
  });

  it('refuses an agent that speaks another API version', async () => {
    const h = createHarness();
    await connected(h);
    h.socket().open();
    h.socket().receive({ type: 'hello', apiVersion: 2, version: '9.0.0' });
    expect(h.connection.getSnapshot().phase).toBe('error');
    expect(h.connection.getSnapshot().lastError).toMatch(/API version 1.*version 2/);
  });

  it('ignores events from a socket it already replaced', async () => {
    const h = createHarness();
    await connected(h);
    const old = h.socket();
    old.drop();
    h.timers.runAll();
    await vi.waitFor(() => expect(h.sockets).toHaveLength(2));
    h.socket().accept(h.agent.status);
    old.drop(WS_CLOSE.unauthorized);
    expect(h.connection.getSnapshot().phase).toBe('connected');
  });
});

describe('agent connection: actions', () => {
  it('sends a sharing request, marks it pending while in flight, and takes the status from the answer', async () => {
    const h = createHarness();
    await connected(h);
    const release = h.agent.hold();
    const done = h.connection.setSharing({ mode: 'on' });
    expect(h.connection.getSnapshot().pending).toBe('sharing:on');
    const second = await h.connection.setSharing({ mode: 'off' });
    expect(second).toEqual({ ok: false, error: expect.objectContaining({ code: 'busy' }) });
    release();
    await expect(done).resolves.toEqual({ ok: true });
    const state = h.connection.getSnapshot();
    expect(state.pending).toBeNull();
    expect(state.status?.sharing.state).toBe('sharing');
    expect(h.agent.mutations()).toEqual([{ method: 'POST', path: '/api/v1/sharing', body: { mode: 'on' } }]);
  });

  it('surfaces a 409 as an action error the UI can show, keeping the connection', async () => {
    const h = createHarness({ agent: new FakeAgent(makeStatus({ consentRequired: true })) });
    await connected(h);
    const result = await h.connection.setSharing({ mode: 'on' });
    expect(result).toEqual({ ok: false, error: { code: 'consent_required', message: 'Finish the first-run screen before sharing.' } });
    const state = h.connection.getSnapshot();
    expect(state.phase).toBe('connected');
    expect(state.actionError?.code).toBe('consent_required');
    h.connection.dismissActionError();
    expect(h.connection.getSnapshot().actionError).toBeUndefined();
  });

  it('surfaces a 400 with its field errors', async () => {
    const h = createHarness();
    await connected(h);
    h.agent.override = (req) =>
      req.method === 'PATCH'
        ? json({ error: { code: 'invalid_request', message: 'bad patch', fields: [{ path: 'startAtLogin', message: 'expected boolean' }] } }, 400)
        : undefined;
    await h.connection.patchSettings({ startAtLogin: true });
    expect(h.connection.getSnapshot().actionError).toEqual({
      code: 'invalid_request',
      message: 'bad patch',
      fields: [{ path: 'startAtLogin', message: 'expected boolean' }],
    });
  });

  it('checks requests against the protocol before sending them', async () => {
    const h = createHarness();
    await connected(h);
    const result = await h.connection.setSharing({ mode: 'snooze' });
    expect(result.ok).toBe(false);
    expect(h.connection.getSnapshot().actionError?.fields?.[0]?.path).toBe('until');
    expect(h.agent.mutations()).toEqual([]);
  });

  it('completes the first run: consent and start-at-login in one PATCH, then sharing on', async () => {
    const h = createHarness({ agent: new FakeAgent(makeStatus({ consentRequired: true })) });
    await connected(h);
    await expect(h.connection.completeFirstRun({ startAtLogin: true, startSharing: true })).resolves.toEqual({ ok: true });
    expect(h.agent.mutations()).toEqual([
      { method: 'PATCH', path: '/api/v1/settings', body: { consent: { accepted: true, version: CONSENT_VERSION }, startAtLogin: true } },
      { method: 'POST', path: '/api/v1/sharing', body: { mode: 'on' } },
    ]);
    const state = h.connection.getSnapshot();
    expect(state.status?.consent.required).toBe(false);
    expect(state.status?.sharing.state).toBe('sharing');
    expect(state.settings?.startAtLogin).toBe(true);
  });

  it('an action answered with 401 sends the user to the unauthorized screen', async () => {
    const h = createHarness();
    await connected(h);
    h.agent.token = 'rotated';
    await h.connection.setSharing({ mode: 'on' });
    expect(h.connection.getSnapshot().phase).toBe('unauthorized');
  });

  it('a pasted token replaces the old one and connects', async () => {
    const h = createHarness({ token: 'wrong' });
    h.connection.start();
    await vi.waitFor(() => expect(h.connection.getSnapshot().phase).toBe('unauthorized'));
    expect(h.connection.setToken(TOKEN)).toBe(true);
    await vi.waitFor(() => expect(h.connection.getSnapshot().phase).toBe('connected'));
    expect(h.agent.requests.at(-1)?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('notifies subscribers and stops after dispose', async () => {
    const h = createHarness();
    const listener = vi.fn();
    h.connection.subscribe(listener);
    await connected(h);
    expect(listener).toHaveBeenCalled();
    const socket = h.socket();
    h.connection.dispose();
    expect(socket.closedByClient?.code).toBe(1000);
    socket.drop();
    expect(h.timers.waiting()).toEqual([]);
  });
});

describe('agent connection: decisions, signals and the policy', () => {
  it('keeps the decision from the status it loads and from pushes', async () => {
    const first = makeDecision([{ resource: 'cpu', state: 'running', reason: 'Sharing the CPU' }]);
    const h = createHarness({ agent: new FakeAgent(makeStatus({ manual: 'on', decision: first })) });
    await connected(h);
    expect(h.connection.getSnapshot().decision).toEqual(first);
    h.socket().accept(h.agent.status);
    const next = makeDecision([{ resource: 'cpu', state: 'released', reason: 'Paused: Cyberpunk2077.exe is running' }]);
    h.agent.setDecision(next);
    h.socket().receive({ type: 'status', status: h.agent.status });
    expect(h.connection.getSnapshot().decision).toEqual(next);
  });

  it('previews a draft without taking the action slot or raising the alert, and returns the 400 fields', async () => {
    const h = createHarness();
    await connected(h);
    const draft = h.agent.settings.policy;
    const ok = await h.connection.previewDecision(draft);
    expect(ok.ok && ok.value.resources[0]?.reasons[0]?.text).toMatch(/waits for 10 minutes idle/);
    expect(h.agent.requests.at(-1)).toMatchObject({ method: 'POST', path: '/api/v1/decision/preview', body: { policy: draft } });

    const bad = await h.connection.previewDecision({ ...draft, quietPeriodMinutes: -1 });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.fields?.[0]?.path).toBe('policy.quietPeriodMinutes');
    const state = h.connection.getSnapshot();
    expect(state.pending).toBeNull();
    expect(state.actionError).toBeUndefined();
  });

  it('loads signals into the state', async () => {
    const h = createHarness();
    h.agent.signals = { readings: [], processesSeen: ['steam.exe'], detectors: [{ signal: 'gpuTemperature', available: false, how: 'no sensor' }] };
    await connected(h);
    const result = await h.connection.loadSignals();
    expect(result.ok).toBe(true);
    expect(h.connection.getSnapshot().signals).toEqual(h.agent.signals);
  });

  it('saves a policy in one PATCH; field errors are returned, not alerted; other failures are alerted', async () => {
    const h = createHarness();
    await connected(h);
    const policy = { ...h.agent.settings.policy, keepAwake: true };
    expect(await h.connection.savePolicy(policy)).toEqual({ ok: true });
    expect(h.agent.mutations()).toEqual([{ method: 'PATCH', path: '/api/v1/settings', body: { policy } }]);
    expect(h.connection.getSnapshot().settings?.policy).toEqual(policy);

    // Caught before sending.
    const invalid = await h.connection.savePolicy({ ...policy, releaseAfterMinutes: 9999 });
    expect(!invalid.ok && invalid.error.fields?.[0]?.path).toBe('policy.releaseAfterMinutes');
    expect(h.agent.mutations()).toHaveLength(1);
    expect(h.connection.getSnapshot().actionError).toBeUndefined();

    // Refused by the agent with fields: returned, not alerted.
    h.agent.override = (req) =>
      req.method === 'PATCH' ? json({ error: { code: 'invalid_request', message: 'bad', fields: [{ path: 'policy.timeZone', message: 'unknown zone' }] } }, 400) : undefined;
    const refused = await h.connection.savePolicy(policy);
    expect(!refused.ok && refused.error.fields).toEqual([{ path: 'policy.timeZone', message: 'unknown zone' }]);
    expect(h.connection.getSnapshot().actionError).toBeUndefined();
    expect(h.connection.getSnapshot().pending).toBeNull();

    // A failure with no fields is everyone's business.
    h.agent.override = (req) => (req.method === 'PATCH' ? json({ error: { code: 'storage_failed', message: 'could not write settings' } }, 500) : undefined);
    await h.connection.savePolicy(policy);
    expect(h.connection.getSnapshot().actionError?.message).toBe('could not write settings');
  });
});

describe('agent connection: jobs', () => {
  it('keeps the dashboard working when the job list cannot be loaded, and says so', async () => {
    const h = createHarness();
    h.agent.override = (req) => (req.path === '/api/v1/jobs' ? json({ error: { code: 'not_found', message: 'GET /jobs' } }, 404) : undefined);
    await connected(h);
    await vi.waitFor(() => expect(h.connection.getSnapshot().jobsError).toMatch(/^Could not load the jobs/));
    expect(h.connection.getSnapshot().phase).toBe('connected');
    h.agent.override = null;
    expect((await h.connection.loadJobs()).ok).toBe(true);
    expect(h.connection.getSnapshot().jobsError).toBeUndefined();
  });

  it('merges pushes into the list, newest first, and keeps a job pushed while the list was loading', async () => {
    const h = createHarness();
    h.agent.jobs = [makeJob({ id: 'old', createdAt: '2025-01-06T08:00:00.000Z' })];
    const release = h.agent.hold();
    h.connection.start();
    await vi.waitFor(() => expect(h.agent.requests.length).toBeGreaterThanOrEqual(2));
    release();
    await vi.waitFor(() => expect(h.connection.getSnapshot().phase).toBe('connected'));
    const hold = h.agent.hold();
    const loading = h.connection.loadJobs();
    h.socket().accept(h.agent.status);
    h.socket().receive({ type: 'job', job: makeJob({ id: 'new', createdAt: '2025-01-06T10:00:00.000Z' }) });
    hold();
    await loading;
    expect(h.connection.getSnapshot().jobs?.map((j) => j.id)).toEqual(['new', 'old']);

    // Final stays final; a stale running push does not bring a job back.
    h.socket().receive({ type: 'job', job: makeJob({ id: 'old', state: 'succeeded', createdAt: '2025-01-06T08:00:00.000Z' }) });
    h.socket().receive({ type: 'job', job: makeJob({ id: 'old', state: 'running', createdAt: '2025-01-06T08:00:00.000Z' }) });
    expect(h.connection.getSnapshot().jobs?.find((j) => j.id === 'old')?.state).toBe('succeeded');
    // A retry (a higher attempt) is newer even with less progress.
    h.socket().receive({ type: 'job', job: makeJob({ id: 'new', attempts: 1, progress: makeProgress({ fraction: 0.5, elapsedS: 50 }) }) });
    h.socket().receive({ type: 'job', job: makeJob({ id: 'new', attempts: 2, progress: makeProgress({ fraction: 0.1, elapsedS: 5 }) }) });
    expect(h.connection.getSnapshot().jobs?.find((j) => j.id === 'new')?.progress?.fraction).toBe(0.1);
  });

  it('subscribes to a console only once the socket is accepted, and unsubscribes with the last listener', async () => {
    const h = createHarness();
    await connected(h);
    const a: string[] = [];
    const b: string[] = [];
    const offA = h.connection.subscribeConsole('job-1', (d, info) => a.push(`${info.replay ? 'R' : 'L'}:${d}`));
    const socket = h.socket();
    expect(socket.sent).toEqual([]);
    socket.accept(h.agent.status);
    expect(socket.sent).toEqual([{ type: 'auth', token: TOKEN }, { type: 'console-subscribe', jobId: 'job-1' }]);
    const offB = h.connection.subscribeConsole('job-1', (d) => b.push(d));
    expect(socket.sent).toHaveLength(2);
    socket.receive({ type: 'console', jobId: 'job-1', data: 'one', replay: true });
    socket.receive({ type: 'console', jobId: 'job-1', data: 'two' });
    expect(a).toEqual(['R:one', 'L:two']);
    expect(b).toEqual(['one', 'two']);
    offA();
    offA();
    expect(socket.sent).toHaveLength(2);
    offB();
    expect(socket.sent.at(-1)).toEqual({ type: 'console-unsubscribe', jobId: 'job-1' });
    socket.receive({ type: 'console', jobId: 'job-1', data: 'three' });
    expect(a).toHaveLength(2);
  });

  it('shows a log once when a job is subscribed, left and subscribed again before the replays arrive', async () => {
    const h = createHarness();
    await connected(h);
    const socket = h.socket();
    socket.accept(h.agent.status);
    const seen: string[] = [];
    let resets = 0;
    h.connection.subscribeConsole('job-1', (d) => seen.push(d))();
    h.connection.subscribeConsole('job-1', (d) => seen.push(d), () => {
      resets++;
      seen.length = 0;
    });
    expect(socket.sent.slice(1)).toEqual([
      { type: 'console-subscribe', jobId: 'job-1' },
      { type: 'console-unsubscribe', jobId: 'job-1' },
      { type: 'console-subscribe', jobId: 'job-1' },
    ]);
    // The agent answers both subscribes with its ring buffer.
    socket.receive({ type: 'console', jobId: 'job-1', data: 'log\r\n', replay: true });
    socket.receive({ type: 'console', jobId: 'job-1', data: 'log\r\n', replay: true });
    socket.receive({ type: 'console', jobId: 'job-1', data: 'live\r\n' });
    expect(seen.join('')).toBe('log\r\nlive\r\n');
    expect(resets).toBe(2);

    // A second viewer starts with what has arrived.
    const late: string[] = [];
    h.connection.subscribeConsole('job-1', (d, info) => late.push(`${info.replay ? 'R' : 'L'}:${d}`));
    expect(late).toEqual(['R:log\r\nlive\r\n']);
  });

  it('loads one job with its console tail and refreshes its row', async () => {
    const h = createHarness();
    h.agent.jobs = [makeJob({ id: 'job-1', state: 'queued', progress: null })];
    h.agent.consoleTail = ['Blender 3.4.1'];
    await connected(h);
    await vi.waitFor(() => expect(h.connection.getSnapshot().jobs).toHaveLength(1));
    h.agent.updateJob('job-1', { state: 'running', progress: makeProgress() });
    const detail = await h.connection.loadJob('job-1');
    expect(detail.ok && detail.value.consoleTail).toEqual(['Blender 3.4.1']);
    expect(h.connection.getSnapshot().jobs?.[0]?.state).toBe('running');
    expect(await h.connection.loadJob('nope')).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});

describe('agent connection: power, tariffs and earnings', () => {
  it('checks tariffs before the PUT, and returns the agent’s field errors without the global alert', async () => {
    const h = createHarness();
    await connected(h);
    const bad = await h.connection.saveTariffs({ active: 'missing', tariffs: [] });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_request', fields: [{ path: 'active' }] } });
    expect(h.agent.mutations()).toEqual([]);

    h.agent.override = (req) =>
      req.method === 'PUT' ? json({ error: { code: 'invalid_request', message: 'no', fields: [{ path: 'tariffs.0.currency', message: 'unknown currency' }] } }, 400) : undefined;
    const tariffs = { active: 'flat', tariffs: [{ id: 'flat', name: 'Flat', currency: 'XXX', timeZone: null, plan: { kind: 'flat' as const, perKwh: '0.30' } }] };
    expect(await h.connection.saveTariffs(tariffs)).toMatchObject({ ok: false, error: { fields: [{ path: 'tariffs.0.currency', message: 'unknown currency' }] } });
    expect(h.agent.mutations()).toEqual([{ method: 'PUT', path: '/api/v1/tariffs', body: tariffs }]);
    expect(h.connection.getSnapshot().actionError).toBeUndefined();
    expect(h.connection.getSnapshot().pending).toBeNull();
  });

  it('sends the earnings query as a query string and fetches the CSV as text with the token', async () => {
    const h = createHarness();
    await connected(h);
    const from = '2025-01-01T00:00:00.000Z';
    const to = '2025-02-01T00:00:00.000Z';
    const report = await h.connection.loadEarnings({ from, to, groupBy: 'month', by: 'device', timeZone: 'Europe/Berlin' });
    expect(report.ok).toBe(true);
    const get = h.agent.requests.find((r) => r.path === '/api/v1/earnings')!;
    expect(Object.fromEntries(new URL(get.url).searchParams)).toEqual({ from, to, groupBy: 'month', by: 'device', timeZone: 'Europe/Berlin' });

    expect(await h.connection.loadEarnings({ from: 'yesterday', to, groupBy: 'day' })).toMatchObject({ ok: false, error: { fields: [{ path: 'from' }] } });
    h.agent.earningsCsv = 'type,id\n';
    expect(await h.connection.exportEarningsCsv({ from, to })).toEqual({ ok: true, value: 'type,id\n' });
    expect(h.agent.requests.at(-1)!.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('keeps a refused calibration out of the global alert (the form explains it)', async () => {
    const h = createHarness();
    await connected(h);
    const result = await h.connection.calibrate({ device: 'cpu', meterIdleWatts: 50, meterLoadWatts: 120 });
    expect(result).toMatchObject({ ok: false, error: { code: 'not_running' } });
    expect(h.connection.getSnapshot().actionError).toBeUndefined();
    expect(await h.connection.calibrate({ device: 'cpu', meterIdleWatts: 120, meterLoadWatts: 50 })).toMatchObject({ ok: false, error: { fields: [{ path: 'meterLoadWatts' }] } });
  });
});

describe('agent connection: storage', () => {
  it('checks storage inputs against the protocol before sending, and returns the errors by field', async () => {
    const h = createHarness();
    await connected(h);
    const settings = await h.connection.saveStorageSettings({ folder: 'relative/path', capBytes: -1 });
    expect(settings.ok).toBe(false);
    expect(!settings.ok && settings.error.fields?.map((f) => f.path).sort()).toEqual(['storage.capBytes', 'storage.folder']);
    expect(await h.connection.addStorageFile('x.tar')).toMatchObject({ ok: false, error: { fields: [{ path: 'file' }] } });
    expect(await h.connection.provePiece('not-a-cid', 5)).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(await h.connection.provePiece(PIECE_A, 0)).toMatchObject({ ok: false, error: { fields: [{ path: 'challenges' }] } });
    expect(await h.connection.scrubPiece('../../etc/passwd')).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(h.agent.mutations()).toEqual([]);
    expect(h.connection.getSnapshot().actionError).toBeUndefined();
  });

  it('saves the storage settings into the state, and keeps the agent’s field errors off the global alert', async () => {
    const h = createHarness();
    await connected(h);
    const saved = await h.connection.saveStorageSettings({ folder: '/srv/offhours', capBytes: 5 * 1024 ** 3 });
    expect(saved).toMatchObject({ ok: true, value: { storage: { folder: '/srv/offhours', capBytes: 5 * 1024 ** 3 } } });
    expect(h.connection.getSnapshot().settings?.storage.folder).toBe('/srv/offhours');
    const refused = await h.connection.saveStorageSettings({ folder: '/nowhere', capBytes: 0 });
    expect(refused).toMatchObject({ ok: false, error: { fields: [{ path: 'storage.folder', message: 'no such folder' }] } });
    expect(h.connection.getSnapshot().actionError).toBeUndefined();
    expect(h.connection.getSnapshot().pending).toBeNull();
  });

  it('loads, proves, scrubs and adds through the storage routes', async () => {
    const h = createHarness();
    await connected(h);
    expect(await h.connection.loadStorage()).toMatchObject({ ok: true, value: { pieces: [{ cid: PIECE_A }, { cid: PIECE_B }] } });
    expect(await h.connection.provePiece(PIECE_A, 7)).toMatchObject({ ok: true, value: { passed: 7, challenges: 7 } });
    expect(await h.connection.scrubPiece(PIECE_B)).toMatchObject({ ok: true, value: { cid: PIECE_B, lastScrub: { ok: true } } });
    expect(await h.connection.addStorageFile('/home/ada/a.tar')).toMatchObject({ ok: true, value: { state: 'waiting' } });
    expect(h.agent.mutations().map((m) => `${m.method} ${m.path}`)).toEqual([
      `POST /api/v1/storage/pieces/${PIECE_A}/prove`,
      `POST /api/v1/storage/pieces/${PIECE_B}/scrub`,
      'POST /api/v1/storage/pieces',
    ]);
  });

  it('returns 409 storage_off to the caller without the global alert', async () => {
    const agent = new FakeAgent();
    agent.storageView = { ...agent.storageView, settings: { folder: null, capBytes: 0 }, disk: null };
    const h = createHarness({ agent });
    await connected(h);
    expect(await h.connection.addStorageFile('/home/ada/a.tar')).toMatchObject({ ok: false, error: { code: 'storage_off' } });
    expect(h.connection.getSnapshot().actionError).toBeUndefined();
  });
});
