// The Jobs page in real Chromium (Debian's, driven by playwright-core) against the real headless
// agent and real Blender: queue a render of a small .blend from the page, watch progress pushes and
// console lines arrive in the xterm.js console, see it finish with its output hashes — under the
// agent's strict CSP (style-src 'self'), with no violation reported.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { JobDetail, defaultPolicy, type JobSummary } from '../../protocol/index.js';
import { blender, buildScene } from '../support/blender.js';
import { CHROMIUM_ARGS, chromium, requireProgram } from '../support/external.js';
import { repoRoot, startAgentProcess, type AgentProcess, callAgent } from '../support/agent-process.js';
import { AWAY_USER } from '../support/signals.js';

const browserPath = chromium();
const blenderPath = blender();
const artifacts = join(repoRoot, 'test-artifacts', 'e2e');

const ready = requireProgram(browserPath, 'jobs browser tests') && requireProgram(blenderPath, 'jobs browser tests');

describe.runIf(ready)('Jobs page in Chromium against the headless agent and real Blender', () => {
  let browser: Browser;
  let agent: AgentProcess;
  let root: string;
  let blendFile: string;

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    // Not under /tmp: the render sandbox hides /tmp, and the agent reads the scene from here.
    const base = join(repoRoot, '.tmp');
    mkdirSync(base, { recursive: true });
    root = mkdtempSync(join(base, 'e2e-jobs-'));
    blendFile = join(root, 'little-cube.blend');
    // Three frames that take a few seconds in all, so progress can be watched while it runs.
    await buildScene(blenderPath.found!, blendFile, 'scene.cycles.samples = 256\nscene.render.resolution_x = 128\nscene.render.resolution_y = 128');
    browser = await playwright.launch({ executablePath: browserPath.found!, headless: true, args: CHROMIUM_ARGS.filter((a) => a !== '--headless') });
    agent = await startAgentProcess(join(root, 'data'));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const api = (method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<unknown> => callAgent(agent, method, path, body);


  async function shot(page: Page, name: string) {
    await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  }

  it('queues a render from the page, shows progress and console lines live, and the finished job with its hashes', async () => {
    // Consent, no quiet period, sharing on, and readings of a user away from a cool machine on
    // mains: the default rules let work run.
    await api('PATCH', '/settings', { consent: { accepted: true, version: 1 }, policy: { ...defaultPolicy(), quietPeriodMinutes: 0 } });
    await api('POST', '/sharing', { mode: 'on' });
    await api('POST', '/signals', AWAY_USER);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // CSP violations, as the page sees them (event) and as Chromium reports them (console).
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
    });
    const consoleProblems: string[] = [];
    page.on('console', (msg) => {
      if (/Content.Security.Policy|Refused to/i.test(msg.text())) consoleProblems.push(msg.text());
    });
    page.on('pageerror', (err) => consoleProblems.push(`page error: ${err.message}`));
    // Job pushes, as they arrive over the page's own events socket.
    const pushes: JobSummary[] = [];
    page.on('websocket', (ws) => {
      ws.on('framereceived', (frame) => {
        try {
          const msg = JSON.parse(String(frame.payload)) as { type: string; job?: JobSummary };
          if (msg.type === 'job' && msg.job) pushes.push(msg.job);
        } catch {
          // not JSON
        }
      });
    });

    const response = await page.goto(agent.printedUrl);
    expect(response?.headers()['content-security-policy']).toMatch(/style-src 'self'(;|$)/);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Jobs', level: 1 }).isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => page.getByTestId('empty-state').textContent(), { timeout: 10_000 }).toContain('No jobs yet.');
    await shot(page, '20-jobs-empty');

    // A path that is not there: the agent's 400 is shown next to the field.
    const form = page.getByTestId('queue-form');
    await form.getByLabel('Blender file (.blend)').fill(join(root, 'not-there.blend'));
    await form.getByRole('button', { name: 'Queue render' }).click();
    await expect.poll(() => page.getByTestId('error-blendFile').isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await form.getByLabel('Blender file (.blend)').getAttribute('aria-invalid')).toBe('true');
    await shot(page, '21-jobs-field-error');

    // The real scene, frames 1-3, on the CPU.
    await form.getByLabel('Blender file (.blend)').fill(blendFile);
    await form.getByLabel('First frame').fill('1');
    await form.getByLabel('Last frame').fill('3');
    await form.getByLabel('Device').selectOption('CPU');
    await form.getByRole('button', { name: 'Queue render' }).click();
    await expect.poll(() => page.getByTestId('queued').textContent(), { timeout: 10_000 }).toBe('Queued “little-cube.blend”.');
    const row = page.getByTestId('job-row').first();
    const jobId = (await row.getAttribute('data-job-id'))!;
    expect(jobId).toBeTruthy();

    // Console lines arrive in the terminal while it renders.
    const terminalRows = page.getByTestId('job-console').locator('.xterm-rows');
    await expect.poll(() => terminalRows.textContent(), { timeout: 60_000 }).toMatch(/Fra:\s?\d/);
    // Progress while running, from pushes the page received and on the page itself.
    await expect
      .poll(() => pushes.some((j) => j.id === jobId && j.state === 'running' && j.progress !== null && j.progress.framesDone < j.progress.framesTotal), { timeout: 60_000 })
      .toBe(true);
    if ((await row.getAttribute('data-state')) === 'running') {
      await expect.poll(() => row.getByTestId('job-progress').textContent(), { timeout: 5_000 }).toMatch(/of 3 frames done/);
      await shot(page, '22-jobs-running');
    }

    // Finished: in the history, with an outcome, a duration and one hash per frame.
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 120_000 }).toBe('succeeded');
    const detail = JobDetail.parse(await api('GET', `/jobs/${jobId}`));
    expect(detail.result?.frames).toHaveLength(3);
    const hashes = row.getByTestId('output-hash');
    await expect.poll(() => hashes.count()).toBe(3);
    for (let i = 0; i < 3; i++) {
      const sha = detail.result!.frames[i]!.sha256;
      expect(await hashes.nth(i).getAttribute('title')).toBe(`SHA-256 ${sha}`);
      expect(await hashes.nth(i).textContent()).toBe(`sha256 ${sha.slice(0, 8)}…${sha.slice(-4)}`);
    }
    expect(await row.textContent()).toMatch(/Finished.*ran \d/);
    expect(await row.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
    // The progress the page showed went forward, frame by frame, to the end.
    const done = pushes.filter((j) => j.id === jobId && j.progress).map((j) => j.progress!.framesDone);
    expect(done.at(-1)).toBe(3);

    // The terminal fits its panel: no columns hidden past the right edge.
    const widths = await page.getByTestId('job-console').evaluate((el) => ({
      panel: el.getBoundingClientRect().width,
      screen: el.querySelector('.xterm-screen')?.getBoundingClientRect().width ?? 0,
    }));
    expect(widths.screen).toBeGreaterThan(0);
    expect(widths.screen).toBeLessThanOrEqual(widths.panel);
    await shot(page, '23-jobs-finished');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(400);
    await shot(page, '23-jobs-finished-dark');

    // No style, script or connection was refused by the CSP on the way.
    const violations = await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
    expect(violations).toEqual([]);
    expect(consoleProblems).toEqual([]);
    await page.close();
  }, 240_000);
});
