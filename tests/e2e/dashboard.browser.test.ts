// The dashboard in real Chromium (Debian's, driven by playwright-core) against a real headless
// agent serving the built UI over loopback.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, chromium, requireProgram } from '../support/external.js';
import { repoRoot, runCli, startAgentProcess, type AgentProcess } from '../support/agent-process.js';
import { reportUserAway } from '../support/signals.js';

const browserPath = chromium();
const artifacts = join(repoRoot, 'test-artifacts', 'e2e');

describe.runIf(requireProgram(browserPath, 'dashboard browser tests'))('dashboard in Chromium against the headless agent', () => {
  let browser: Browser;
  let agent: AgentProcess;
  let dataDir: string;
  let root: string;

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    browser = await playwright.launch({ executablePath: browserPath.found!, headless: true, args: CHROMIUM_ARGS.filter((a) => a !== '--headless') });
    root = mkdtempSync(join(tmpdir(), 'offhours-e2e-'));
    dataDir = join(root, 'data');
    agent = await startAgentProcess(dataDir);
  });
  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    rmSync(root, { recursive: true, force: true });
  });


  async function shot(page: Page, name: string) {
    await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  }

  /** Records status pushes that arrive over the page's own events WebSocket. */
  function recordPushes(page: Page): Array<{ state: string; mode: string }> {
    const pushes: Array<{ state: string; mode: string }> = [];
    page.on('websocket', (ws) => {
      ws.on('framereceived', (frame) => {
        try {
          const msg = JSON.parse(String(frame.payload));
          if (msg.type === 'status') pushes.push({ state: msg.status.sharing.state, mode: msg.status.sharing.manual.mode });
        } catch {
          // not ours
        }
      });
    });
    return pushes;
  }

  it('first run, live status and the sharing switch, with changes arriving over the WebSocket', async () => {
    const page = await browser.newPage();
    const pushes = recordPushes(page);
    await page.goto(agent.printedUrl);
    await expect.poll(() => page.getByRole('heading', { name: 'Welcome to Offhours' }).isVisible()).toBe(true);
    // The token left the address bar: it lives in session storage only.
    expect(page.url()).not.toContain(agent.token);
    await shot(page, '01-first-run');

    // This box has no desktop session or sensors: report, as the shell would, a user who has
    // been away for an hour on a cool machine, so the default (Gamer) rules allow sharing.
    await reportUserAway(agent.origin, agent.token);
    await page.getByLabel('Start Offhours when I log in').check();
    await page.getByRole('button', { name: 'I agree — start sharing when idle' }).click();
    const state = page.getByTestId('sharing-state');
    await expect.poll(() => state.textContent()).toMatch(/Sharing/);
    await shot(page, '02-overview-sharing');
    const settings = JSON.parse((await runCli(['status', '--json', '--data-dir', dataDir])).stdout);
    expect(settings.startAtLogin).toBe(true);
    expect(settings.consent.required).toBe(false);

    // Off from the page: the new state arrives as a push on the socket, not only as the reply.
    await page.getByRole('button', { name: 'Turn sharing off' }).click();
    await expect.poll(() => state.textContent()).toMatch(/Off/);
    await expect.poll(() => pushes.some((p) => p.mode === 'off')).toBe(true);
    await shot(page, '03-overview-off');

    // On from somewhere else (the CLI): the page learns it only through the WebSocket.
    const before = pushes.length;
    expect((await runCli(['resume', '--data-dir', dataDir])).code).toBe(0);
    await expect.poll(() => state.textContent()).toMatch(/Sharing/);
    expect(pushes.slice(before).some((p) => p.state === 'sharing')).toBe(true);

    // And a reload keeps working from session storage, without the fragment.
    await page.goto(agent.origin + '/');
    await expect.poll(() => page.getByTestId('sharing-state').textContent()).toMatch(/Sharing/);
    await page.close();
  });

  it('a wrong token shows the "not authorized" screen', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${agent.origin}/#token=${'0'.repeat(64)}`);
    await expect.poll(() => page.getByRole('heading', { name: 'Not authorized' }).isVisible()).toBe(true);
    await shot(page, '04-not-authorized');
    await context.close();
  });

  it('no token at all shows the "not authorized" screen', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${agent.origin}/`);
    await expect.poll(() => page.getByRole('heading', { name: 'Not authorized' }).isVisible()).toBe(true);
    await context.close();
  });

  it('an API call without the token gets 401, from the browser too', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${agent.origin}/`);
    const status = await page.evaluate(async () => (await fetch('/api/v1/status')).status);
    expect(status).toBe(401);
    await context.close();
  });

  it('a WebSocket without the token, or with a wrong one, gets nothing and is closed', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${agent.origin}/`);
    const result = await page.evaluate(
      (wrong) =>
        new Promise<{ code: number; messages: number }>((resolve) => {
          const ws = new WebSocket(`ws://${location.host}/api/v1/events`, ['offhours.v1']);
          let messages = 0;
          ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: wrong }));
          ws.onmessage = () => messages++;
          ws.onclose = (e) => resolve({ code: e.code, messages });
        }),
      'f'.repeat(64),
    );
    expect(result).toEqual({ code: 4401, messages: 0 });
    await context.close();
  });

  it('a WebSocket from a foreign Origin is refused even with the right token', async () => {
    // A page on another origin (another port is another origin) tries to read our events.
    const foreign: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>foreign</title>');
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
    const port = (foreign.address() as { port: number }).port;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://localhost:${port}/`);
    const result = await page.evaluate(
      ({ agentPort, token }) =>
        new Promise<{ opened: boolean; messages: number }>((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${agentPort}/api/v1/events`, ['offhours.v1', `offhours.token.${token}`]);
          let opened = false;
          let messages = 0;
          ws.onopen = () => (opened = true);
          ws.onmessage = () => messages++;
          ws.onclose = () => resolve({ opened, messages });
          ws.onerror = () => undefined;
        }),
      { agentPort: agent.port, token: agent.token },
    );
    expect(result).toEqual({ opened: false, messages: 0 });
    await context.close();
    foreign.close();
  });

  it('a second agent on the same data directory refuses to start', async () => {
    const r = await runCli(['agent', '--data-dir', dataDir, '--port', '0']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/already using the data directory/);
  });
});
