// The Schedule page in real Chromium (Debian's, driven by playwright-core) against a real headless
// agent: paint a window in the weekly grid, save, post signals to the agent's API, and watch the
// decision and its reason change on the page without a reload.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import type { Day, Policy, Settings, SignalUpdate, TimeWindow } from '../../protocol/index.js';
import { CHROMIUM_ARGS, chromium, requireProgram } from '../support/external.js';
import { repoRoot, startAgentProcess, type AgentProcess, callAgent } from '../support/agent-process.js';

const browserPath = chromium();
const artifacts = join(repoRoot, 'test-artifacts', 'e2e');
const DAYS: Day[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The hour cell "now" falls in, and the one after it, in UTC (the zone the test gives the schedule). */
function nowAndNextCell(at = new Date()): Array<{ day: Day; hour: number }> {
  const next = new Date(at.getTime() + 3600_000);
  return [
    { day: DAYS[at.getUTCDay()]!, hour: at.getUTCHours() },
    { day: DAYS[next.getUTCDay()]!, hour: next.getUTCHours() },
  ];
}

describe.runIf(requireProgram(browserPath, 'schedule browser tests'))('Schedule page in Chromium against the headless agent', () => {
  let browser: Browser;
  let agent: AgentProcess;
  let root: string;
  let game: ChildProcess | undefined;

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    browser = await playwright.launch({ executablePath: browserPath.found!, headless: true, args: CHROMIUM_ARGS.filter((a) => a !== '--headless') });
    root = mkdtempSync(join(tmpdir(), 'offhours-e2e-schedule-'));
    agent = await startAgentProcess(join(root, 'data'));
  });
  afterAll(async () => {
    game?.kill('SIGKILL');
    await browser?.close();
    await agent?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** Full page from the top (a sticky bar would otherwise be drawn where the page was scrolled to),
   * and the same in dark mode, which is the dashboard's default where the system asks for nothing. */
  async function shot(page: Page, name: string, { dark = false } = {}) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
    if (dark) {
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.waitForTimeout(400); // let colour transitions finish
      await page.screenshot({ path: join(artifacts, `${name}-dark.png`), fullPage: true });
      await page.emulateMedia({ colorScheme: 'light' });
      await page.waitForTimeout(400);
    }
  }

  const api = <T,>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => callAgent<T>(agent, method, path, body);


  const postSignals = (readings: SignalUpdate['readings']) => api('POST', '/signals', { source: 'e2e-test', maxAgeMs: 600_000, readings } satisfies SignalUpdate);

  const cpuRow = (page: Page) => page.locator('[data-testid="resource-row"][data-resource="cpu"]');

  it('paint a window, save, and see the decision and its reason follow posted signals', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(agent.printedUrl);
    await page.getByRole('button', { name: 'I agree — start sharing when idle' }).click();
    // First run ends by going to the Overview once sharing is on: wait for that before navigating.
    await expect.poll(() => page.getByRole('button', { name: 'Turn sharing off' }).isEnabled(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => page.url()).toMatch(/#\/overview$/);

    // To the Schedule page by the sidebar, as a user would.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Schedule' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Schedule', level: 1 }).isVisible(), { timeout: 5_000 }).toBe(true);
    const runNow = page.getByTestId('would-run-now');
    // The agent answers for the saved policy (Gamer) first: nobody has said the user is idle.
    await expect.poll(() => runNow.textContent(), { timeout: 10_000 }).toMatch(/^Would it run now\? — No: /);
    await shot(page, '10-schedule-gamer', { dark: true });

    await page.getByRole('button', { name: 'Always when idle', exact: true }).click();
    await page.getByLabel('Time zone').selectOption('UTC');
    await page.getByRole('spinbutton', { name: 'Quiet period in minutes' }).fill('0');
    const gameInput = page.getByRole('combobox', { name: 'Also count as games' });
    await gameInput.fill('Cyberpunk2077.exe');
    await page.getByRole('button', { name: 'Add game' }).click();

    // Paint this hour and the next (so the test does not fail on the hour) after clearing the grid.
    await page.getByRole('button', { name: 'Clear the grid' }).click();
    const cells = nowAndNextCell();
    for (const c of cells) {
      const cell = page.getByTestId(`cell-${c.day}-${c.hour}`);
      await expect.poll(() => cell.getAttribute('aria-selected')).toBe('false');
      await cell.hover();
      await page.mouse.down();
      await page.mouse.up();
      await expect.poll(() => cell.getAttribute('aria-selected')).toBe('true');
    }
    // A drag across three cells of another day paints them all.
    const other = DAYS.find((d) => !cells.some((c) => c.day === d))!;
    await page.getByTestId(`cell-${other}-1`).hover();
    await page.mouse.down();
    await page.getByTestId(`cell-${other}-2`).hover();
    await page.getByTestId(`cell-${other}-3`).hover();
    await page.mouse.up();
    expect(await page.getByTestId(`cell-${other}-3`).getAttribute('aria-label')).toMatch(/, allowed$/);
    await shot(page, '11-schedule-draft');

    await page.getByRole('button', { name: 'Save schedule' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Save schedule' }).isDisabled()).toBe(true);
    await expect.poll(() => page.getByText('Saved', { exact: true }).isVisible()).toBe(true);

    // What the agent stored: the painted cells as windows, on every resource's main rule.
    const saved = (await api<Settings>('GET', '/settings')).policy;
    const windows = (saved.rules.cpu?.[0]?.conditions.find((c) => c.kind === 'timeWindows') as { windows: TimeWindow[] } | undefined)?.windows;
    const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;
    const expected: TimeWindow[] =
      cells[0]!.day === cells[1]!.day
        ? [{ days: [cells[0]!.day], start: hh(cells[0]!.hour), end: cells[0]!.hour === 22 ? '24:00' : hh(cells[0]!.hour + 2) }]
        : [
            { days: [cells[1]!.day], start: '00:00', end: '01:00' },
            { days: [cells[0]!.day], start: '23:00', end: '24:00' },
          ];
    expect(windows).toEqual(expect.arrayContaining(expected));
    expect(windows).toContainEqual({ days: [other], start: '01:00', end: '04:00' });
    expect(saved).toMatchObject({ timeZone: 'UTC', quietPeriodMinutes: 0, games: { extra: ['Cyberpunk2077.exe'], ignore: [] } } satisfies Partial<Policy>);

    // The user has been away an hour, on mains, nothing running.
    await postSignals([
      { name: 'idleSeconds', value: 3600 },
      { name: 'screenLocked', value: false },
      { name: 'onBattery', value: false },
      { name: 'gamesRunning', value: [] },
    ]);
    await expect.poll(() => runNow.textContent(), { timeout: 10_000 }).toBe('Would it run now? — Yes');
    await shot(page, '12-schedule-would-run');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    await expect.poll(() => cpuRow(page).getByTestId('resource-state').textContent(), { timeout: 10_000 }).toBe('Running');
    expect(await page.getByTestId('sharing-reason').textContent()).toMatch(/^Sharing .*CPU/);
    await shot(page, '13-overview-running');

    // A game starts. The agent hears it from the API at once; a real process of that name (on the
    // user's game list) keeps its own process-list source agreeing from its next poll on.
    const exe = join(root, 'Cyberpunk2077.exe');
    copyFileSync('/bin/sleep', exe);
    game = spawn(exe, ['300'], { stdio: 'ignore' });
    const gamePost = () => postSignals([{ name: 'gamesRunning', value: [{ name: 'Cyberpunk2077.exe', via: 'user-list' }] }]);
    await gamePost();
    const reposting = setInterval(() => void gamePost().catch(() => undefined), 500);
    try {
      await expect.poll(() => cpuRow(page).getByTestId('resource-reason').textContent(), { timeout: 10_000 }).toBe('Paused: Cyberpunk2077.exe is running');
      expect(await cpuRow(page).getByTestId('resource-state').textContent()).toMatch(/Stopped|Paused/);
      await shot(page, '14-overview-game', { dark: true });

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Schedule' }).click();
      await expect.poll(() => runNow.textContent(), { timeout: 10_000 }).toBe('Would it run now? — No: Cyberpunk2077.exe is running');
      await shot(page, '15-schedule-game');
    } finally {
      clearInterval(reposting);
    }
    // Never reloaded: every change came over the events WebSocket.
    expect(page.url()).toBe(`${agent.origin}/#/schedule`);
    await page.close();
  });

  it('refuses an invalid draft with the error next to its control, and saves nothing', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${agent.origin}/#token=${agent.token}`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Schedule' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Schedule', level: 1 }).isVisible(), { timeout: 5_000 }).toBe(true);
    const before = (await api<Settings>('GET', '/settings')).policy;

    await page.getByRole('checkbox', { name: 'electricity costs at most' }).check();
    await page.getByRole('textbox', { name: 'Price cap per kWh' }).fill('cheap');
    // The agent's preview refuses the draft; its field error lands next to the price.
    await expect.poll(() => page.getByTestId('price-field').getByTestId('field-error').textContent(), { timeout: 10_000 }).toMatch(/decimal amount/);
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await expect.poll(() => page.getByTestId('save-error').isVisible()).toBe(true);
    await page.getByTestId('price-field').scrollIntoViewIfNeeded();
    await shot(page, '16-schedule-invalid');
    expect((await api<Settings>('GET', '/settings')).policy).toEqual(before);
    await page.close();
  });
});
