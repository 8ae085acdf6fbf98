// The agent's API over real loopback HTTP and WebSocket, against a real agent on a temp data dir.
import { statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent, type RunningAgent } from '../../agent/agent.js';
import { Status, Settings, WS_CLOSE } from '../../protocol/index.js';
import { api, openEvents } from '../support/agent-client.js';
import { useTempDirs } from '../support/tmp.js';

describe('agent API', () => {
  const tmp = useTempDirs();
  const running: RunningAgent[] = [];
  afterEach(async () => {
    for (const a of running.splice(0)) await a.stop();
  });

  async function start(opts: { rendererDir?: string; dataDir?: string } = {}) {
    const dataDir = opts.dataDir ?? tmp();
    const rendererDir = opts.rendererDir ?? join(tmp(), 'none');
    const agent = await runAgent({ dataDir, port: 0, rendererDir, sources: [] });
    running.push(agent);
    return { agent, base: `http://127.0.0.1:${agent.port}`, token: agent.token };
  }

  it('creates the token file on first run, user-only', async () => {
    const { agent } = await start();
    const mode = statSync(join(agent.dataDir, 'api-token')).mode & 0o777;
    expect(mode).toBe(0o600);
    expect(agent.token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps the same token across restarts', async () => {
    const dataDir = tmp();
    const first = await start({ dataDir });
    const token = first.token;
    await first.agent.stop();
    running.length = 0;
    const second = await start({ dataDir });
    expect(second.token).toBe(token);
  });

  it.each(['/health', '/status', '/settings'])('GET %s needs the token', async (path) => {
    const { base, token } = await start();
    expect((await api(base, null, 'GET', path)).status).toBe(401);
    expect((await api(base, 'f'.repeat(64), 'GET', path)).status).toBe(401);
    expect((await api(base, token, 'GET', path, undefined, {})).status).toBe(200);
  });

  it('never accepts the token from a query string', async () => {
    const { base, token } = await start();
    const res = await fetch(`${base}/api/v1/status?token=${token}`);
    expect(res.status).toBe(401);
  });

  it('a taken port is a clear error, or inside the app a free port instead', async () => {
    const { agent } = await start();
    await expect(runAgent({ dataDir: tmp(), port: agent.port, rendererDir: join(tmp(), 'none'), sources: [] })).rejects.toThrow(
      new RegExp(`Port ${agent.port} on 127.0.0.1 is already in use`),
    );
    const other = await runAgent({ dataDir: tmp(), port: agent.port, rendererDir: join(tmp(), 'none'), sources: [], portFallback: true });
    running.push(other);
    expect(other.port).not.toBe(agent.port);
    expect((await api(`http://127.0.0.1:${other.port}`, other.token, 'GET', '/health')).status).toBe(200);
  });

  it('health says who it is and nothing secret', async () => {
    const { base, token, agent } = await start();
    const { json } = await api(base, token, 'GET', '/health');
    expect(json).toEqual({ ok: true, name: 'offhours-agent', version: expect.any(String), apiVersion: 1 });
    expect(JSON.stringify(json)).not.toContain(token);
    expect(JSON.stringify(json)).not.toContain(agent.dataDir);
  });

  it('refuses requests whose Host is not a loopback name (DNS rebinding)', async () => {
    const { agent, token } = await start();
    const http = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: agent.port, path: '/api/v1/status', headers: { host: 'evil.example:80', authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });

  it('starts with sharing off and consent required', async () => {
    const { base, token } = await start();
    const status = Status.parse((await api(base, token, 'GET', '/status')).json);
    expect(status.consent.required).toBe(true);
    expect(status.sharing.state).toBe('off');
    expect(status.sharing.reason.code).toBe('consent_required');
  });

  it('refuses to turn sharing on before consent (409), then allows it after', async () => {
    const { base, token } = await start();
    const refused = await api(base, token, 'POST', '/sharing', { mode: 'on' });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('consent_required');
    const patched = await api(base, token, 'PATCH', '/settings', { consent: { accepted: true, version: 1 }, startAtLogin: true });
    expect(patched.status).toBe(200);
    expect(Settings.parse(patched.json).startAtLogin).toBe(true);
    const on = await api(base, token, 'POST', '/sharing', { mode: 'on' });
    expect(on.status).toBe(200);
    const status = Status.parse(on.json);
    expect(status.sharing.manual.mode).toBe('on');
    // On means "allowed": the rules (no idle time known yet) decide that nothing runs right now.
    expect(status.sharing.state).toBe('paused');
    expect(status.sharing.reason.code).toBe('signal_unknown');
  });

  it.each([
    ['/sharing', 'POST', { mode: 'turbo' }, 'mode'],
    ['/sharing', 'POST', { mode: 'snooze' }, 'until'],
    ['/sharing', 'POST', { mode: 'snooze', until: 'tomorrow' }, 'until'],
    ['/sharing', 'POST', { mode: 'off', until: '2030-01-01T00:00:00Z' }, 'until'],
    ['/sharing', 'POST', { mode: 'on', extra: 1 }, '(body)'],
    ['/sharing', 'POST', [1, 2], '(body)'],
    ['/settings', 'PATCH', { startAtLogin: 'yes' }, 'startAtLogin'],
    ['/settings', 'PATCH', { sharing: { mode: 'on' } }, '(body)'],
    ['/settings', 'PATCH', {}, '(body)'],
    ['/settings', 'PATCH', { consent: { accepted: true } }, 'consent'],
  ])('%s %s with %j gets 400 naming the field %s', async (path, method, body, field) => {
    const { base, token } = await start();
    const res = await api(base, token, method, path, body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_request');
    expect(res.json.error.fields.map((f: { path: string }) => f.path)).toContain(field);
  });

  it('rejects a snooze in the past with a field error', async () => {
    const { base, token } = await start();
    await api(base, token, 'PATCH', '/settings', { consent: { accepted: true, version: 1 } });
    const res = await api(base, token, 'POST', '/sharing', { mode: 'snooze', until: '2000-01-01T00:00:00Z' });
    expect(res.status).toBe(400);
    expect(res.json.error.fields[0].path).toBe('until');
  });

  it('answers malformed bodies with clean 4xx errors and keeps serving', async () => {
    const { base, token } = await start();
    expect((await api(base, token, 'POST', '/sharing', '{"mode":')).status).toBe(400);
    expect((await api(base, token, 'POST', '/sharing', '')).status).toBe(400);
    expect((await api(base, token, 'POST', '/sharing', 'mode=on', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await api(base, token, 'POST', '/sharing', JSON.stringify({ mode: 'x'.repeat(100_000) }))).status).toBe(413);
    expect((await api(base, token, 'DELETE', '/status')).status).toBe(405);
    expect((await api(base, token, 'GET', '/nope')).status).toBe(404);
    expect((await api(base, token, 'GET', '/status')).status).toBe(200);
  });

  it('withdrawing consent turns sharing off at once', async () => {
    const { base, token } = await start();
    await api(base, token, 'PATCH', '/settings', { consent: { accepted: true, version: 1 } });
    await api(base, token, 'POST', '/sharing', { mode: 'on' });
    const res = await api(base, token, 'PATCH', '/settings', { consent: { accepted: false } });
    expect(res.json.sharing.mode).toBe('off');
    const status = Status.parse((await api(base, token, 'GET', '/status')).json);
    expect(status.consent.required).toBe(true);
    expect(status.sharing.state).toBe('off');
  });

  it('reports a settings file that was kept aside in its status', async () => {
    const dataDir = tmp();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'settings.json'), '{ broken');
    const { base, token } = await start({ dataDir });
    const status = Status.parse((await api(base, token, 'GET', '/status')).json);
    expect(status.problems.map((p) => p.code)).toContain('settings_recovered');
    expect(status.sharing.state).toBe('off');
  });

  describe('events WebSocket', () => {
    it('authenticates by the token subprotocol and pushes the status', async () => {
      const { agent, token } = await start();
      const r = await openEvents(agent.port, { token, tokenVia: 'protocol', until: (m) => m.length >= 2 });
      expect(r.opened).toBe(true);
      expect(r.messages[0].type).toBe('hello');
      expect(r.messages[1].type).toBe('status');
      expect(Status.safeParse(r.messages[1].status).success).toBe(true);
    });

    it('authenticates by its first message', async () => {
      const { agent, token } = await start();
      const r = await openEvents(agent.port, { token, tokenVia: 'message', until: (m) => m.length >= 2 });
      expect(r.messages.map((m) => m.type)).toEqual(['hello', 'status']);
    });

    it('refuses a wrong token in the subprotocol at the upgrade', async () => {
      const { agent } = await start();
      const r = await openEvents(agent.port, { token: 'a'.repeat(64), tokenVia: 'protocol' });
      expect(r.opened).toBe(false);
      expect(r.refusedStatus).toBe(401);
    });

    it('closes a socket whose first message has a wrong token, and sends it nothing', async () => {
      const { agent } = await start();
      const r = await openEvents(agent.port, { token: 'b'.repeat(64), tokenVia: 'message' });
      expect(r.closeCode).toBe(WS_CLOSE.unauthorized);
      expect(r.messages).toEqual([]);
    });

    it('closes a socket that never authenticates', async () => {
      const { agent } = await start();
      const r = await openEvents(agent.port, { ms: 7000 });
      expect(r.closeCode).toBe(WS_CLOSE.authTimeout);
      expect(r.messages).toEqual([]);
    }, 10_000);

    it('refuses an upgrade from a foreign Origin even with the right token', async () => {
      const { agent, token } = await start();
      const r = await openEvents(agent.port, { token, tokenVia: 'protocol', origin: 'https://evil.example' });
      expect(r.opened).toBe(false);
      expect(r.refusedStatus).toBe(403);
    });

    it('accepts the agent’s own origin', async () => {
      const { agent, token } = await start();
      const r = await openEvents(agent.port, { token, tokenVia: 'protocol', origin: `http://127.0.0.1:${agent.port}`, until: (m) => m.length >= 2 });
      expect(r.opened).toBe(true);
    });

    it('pushes a status change made through the API to connected clients', async () => {
      const { agent, token, base } = await start();
      const r = await openEvents(agent.port, {
        token,
        tokenVia: 'protocol',
        afterFirstStatus: () => api(base, token, 'PATCH', '/settings', { consent: { accepted: true, version: 1 } }),
        until: (m) => m.some((x) => x.type === 'status' && x.status.consent.required === false),
      });
      const statuses = r.messages.filter((m) => m.type === 'status');
      // The first status predates the change; the change arrived as a later push.
      expect(statuses[0].status.consent.required).toBe(true);
      expect(statuses.at(-1).status.consent.required).toBe(false);
    });

    it('answers bad messages from an authenticated client without closing', async () => {
      const { agent, token } = await start();
      const r = await openEvents(agent.port, { token, tokenVia: 'protocol', send: ['not json', { type: 'ping', id: 7 }], until: (m) => m.some((x) => x.type === 'pong') });
      expect(r.messages.find((m) => m.type === 'error')?.code).toBe('bad_message');
      expect(r.messages.find((m) => m.type === 'pong')?.id).toBe(7);
    });
  });

  describe('dashboard files', () => {
    it('serves the built page with a CSP and only files inside the renderer folder', async () => {
      const rendererDir = tmp();
      mkdirSync(join(rendererDir, 'assets'));
      writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>x</title>');
      writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
      writeFileSync(join(rendererDir, '..', 'secret.txt'), 'secret');
      const { base } = await start({ rendererDir });
      const page = await fetch(`${base}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect((await fetch(`${base}/assets/app.js`)).headers.get('content-type')).toContain('javascript');
      for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/assets/%2e%2e%2f..%2fsecret.txt']) {
        const res = await fetch(`${base}${p}`);
        expect(res.status, p).toBe(404);
      }
    });

    it('says plainly when the dashboard is not built', async () => {
      const { base } = await start();
      const res = await fetch(`${base}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/npm run build/);
    });
  });
});
