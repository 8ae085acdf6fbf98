// The Earnings and Power pages in real Chromium (Debian's, driven by playwright-core) against the
// real headless agent process, whose ledger holds a year of hourly history written beforehand
// through the agent's own Ledger: the totals the page shows are the agent's report for the very
// range the page asked for, the uPlot chart draws under the strict CSP, the CSV export downloads
// every entry in range; on the Power page a flat tariff made in the editor prices "now", and a
// pasted price table with a bad row is refused by line number.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium as playwright, type Browser, type Page, type Request } from 'playwright-core';
import { Ledger } from '../../agent/ledger/ledger.js';
import { decimalToMicros, defaultPolicy, EarningsReport, microsToDecimal, type LedgerEntry } from '../../protocol/index.js';
import { CHART_DRAWN_MARK } from '../../renderer/earnings/chart-drawer.js';
import { CHROMIUM_ARGS, chromium, requireProgram } from '../support/external.js';
import { repoRoot, startAgentProcess, type AgentProcess, callAgent } from '../support/agent-process.js';

const browserPath = chromium();
const artifacts = join(repoRoot, 'test-artifacts', 'e2e');

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** More than a year of hours, so the page's 12-month range starts inside the history, not before it. */
const HOURS = 366 * 24 + 48;
/** Earnings with no price known: their hours ago (all inside every range the tests pick). */
const UNVALUED_HOURS_AGO = [3, 27, 100, 250, 600];
const CSV_HEADER = 'date_time_utc,date_time_local,type,network,job,device,gross,token,fiat_value,energy_kwh,energy_cost,net,currency,reference_id,proof_ref';

/**
 * Per hour one valued earning (at :30) and one measured energy span (:10 to :50), hours ending
 * with the current one; plus a few unvalued earnings (at :40). Every entry sits inside its hour,
 * so the CSV export (by `at`) and the report (by the hour of `at`, or of `from` for energy) count
 * the same entries for any range that starts and ends on the hour.
 */
function seedEntries(now: number): LedgerEntry[] {
  const current = Math.floor(now / HOUR) * HOUR;
  const out: LedgerEntry[] = [];
  for (let i = HOURS - 1; i >= 0; i--) {
    const hour = current - i * HOUR;
    const iso = (ms: number) => new Date(ms).toISOString();
    out.push({
      type: 'earning',
      id: `earn-${hour}`,
      at: iso(hour + 30 * MINUTE),
      network: 'render-net',
      jobId: `job-${hour}`,
      device: 'gpu:0',
      amount: '0.012',
      token: 'USDC',
      fiatValue: { currency: 'EUR', amount: '0.011' },
      proof: { kind: 'voucher', ref: `voucher-${hour}`, status: 'verified' },
    });
    out.push({
      type: 'energy',
      id: `energy-${hour}`,
      from: iso(hour + 10 * MINUTE),
      at: iso(hour + 50 * MINUTE),
      network: 'render-net',
      jobId: `job-${hour}`,
      device: 'gpu:0',
      mwh: 150_000,
      basis: 'measured',
      cost: '0.004',
      currency: 'EUR',
      tariffId: 'home',
    });
    if (UNVALUED_HOURS_AGO.includes(i)) {
      out.push({
        type: 'earning',
        id: `unvalued-${hour}`,
        at: iso(hour + 40 * MINUTE),
        network: 'render-net',
        jobId: null,
        device: 'gpu:0',
        amount: '0.5',
        token: 'USDC',
        proof: { kind: 'voucher', ref: `voucher-unvalued-${hour}`, status: 'verified' },
      });
    }
  }
  return out;
}

/** Sums of decimal text, exact (micros), as the report would state them. */
function sum(values: string[]): string {
  return microsToDecimal(values.reduce((acc, v) => acc + decimalToMicros(v), 0n));
}

/** The page's way of writing amounts ("1.5 USDC · 2 FIL", a dash for none), from the report. */
const amountsText = (amounts: Record<string, string>) => Object.entries(amounts).map(([k, v]) => `${v} ${k}`).join(' · ') || '—';

describe.runIf(requireProgram(browserPath, 'energy browser tests'))('Earnings and Power pages in Chromium against the headless agent', () => {
  let browser: Browser;
  let agent: AgentProcess;
  let root: string;
  let seeded: LedgerEntry[];

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    // Under the repo's .tmp/ like the other agent e2e tests (the sandbox may hide /tmp).
    const base = join(repoRoot, '.tmp');
    mkdirSync(base, { recursive: true });
    root = mkdtempSync(join(base, 'e2e-energy-'));
    const dataDir = join(root, 'data');
    // The ledger is written before the agent starts, by the same code the agent appends with, so
    // the agent's startup replay (or snapshot) is part of what is tested.
    seeded = seedEntries(Date.now());
    const ledger = Ledger.open(dataDir);
    for (let i = 0; i < seeded.length; i += 2000) ledger.appendMany(seeded.slice(i, i + 2000));
    expect(ledger.count).toBe(seeded.length);
    ledger.close();
    browser = await playwright.launch({ executablePath: browserPath.found!, headless: true, args: CHROMIUM_ARGS.filter((a) => a !== '--headless') });
    agent = await startAgentProcess(dataDir);
    // Consent given, so the dashboard opens on its pages rather than the first-run screen.
    await api('PATCH', '/settings', { consent: { accepted: true, version: 1 }, policy: defaultPolicy() });
  });
  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const api = (method: 'GET' | 'PATCH', path: string, body?: unknown): Promise<unknown> => callAgent(agent, method, path, body);


  async function shot(page: Page, name: string) {
    await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  }

  /** A page that records CSP violations (as the page sees them and as Chromium logs them) and page errors. */
  async function openPage(): Promise<{ page: Page; problems: string[]; violations: () => Promise<string[]> }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
    });
    const problems: string[] = [];
    page.on('console', (msg) => {
      if (/Content.Security.Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    const response = await page.goto(agent.printedUrl);
    expect(response?.headers()['content-security-policy']).toMatch(/style-src 'self'(;|$)/);
    return { page, problems, violations: () => page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations) };
  }

  it('Earnings: the totals are the agent report for the page’s own range, the chart draws, Group by and Export CSV work', async () => {
    const { page, problems, violations } = await openPage();
    const earningsRequests: URL[] = [];
    page.on('request', (req: Request) => {
      const url = new URL(req.url());
      if (url.pathname === '/api/v1/earnings') earningsRequests.push(url);
    });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Earnings' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Earnings', level: 1 }).isVisible(), { timeout: 10_000 }).toBe(true);
    const controls = page.getByTestId('earnings-controls');
    await controls.getByLabel('Range').selectOption({ label: 'Last 12 months' });
    // The 12-month preset groups by month; day is the user's choice here.
    const dayResponse = page.waitForResponse((res) => {
      const url = new URL(res.url());
      return url.pathname === '/api/v1/earnings' && url.searchParams.get('groupBy') === 'day';
    });
    await controls.getByLabel('Group by').selectOption({ label: 'Day' });
    expect((await dayResponse).status()).toBe(200);

    const dayQuery = earningsRequests.findLast((u) => u.searchParams.get('groupBy') === 'day')!;
    expect(dayQuery).toBeDefined();
    const from = dayQuery.searchParams.get('from')!;
    const to = dayQuery.searchParams.get('to')!;
    // A year back from the end of the current hour (365 or 366 days, by the calendar).
    expect([365, 366]).toContain((Date.parse(to) - Date.parse(from)) / (24 * HOUR));

    // The agent's report for exactly what the page asked (range, grouping and time zone).
    const report = EarningsReport.parse(await api('GET', `/earnings?${dayQuery.searchParams.toString()}`));
    const inRange = seeded.filter((e) => Date.parse(e.at) >= Date.parse(from) && Date.parse(e.at) < Date.parse(to));
    const earnings = inRange.filter((e) => e.type === 'earning');
    const energy = inRange.filter((e) => e.type === 'energy');
    const valued = earnings.filter((e) => e.fiatValue);
    // The report adds up what was seeded, so comparing the page with it compares with the ledger.
    expect(report.totals.earnings).toBe(earnings.length);
    expect(report.totals.gross).toEqual({ USDC: sum(earnings.map((e) => e.amount)) });
    expect(report.totals.fiatValue).toEqual({ EUR: sum(valued.map((e) => e.fiatValue!.amount)) });
    expect(report.totals.energyCost).toEqual({ EUR: sum(energy.map((e) => e.cost)) });
    expect(report.totals.energyMwh).toBe(energy.reduce((a, e) => a + e.mwh, 0));
    expect(report.totals.unvaluedCount).toBe(UNVALUED_HOURS_AGO.length);

    const totals = page.getByTestId('earnings-totals');
    await expect.poll(() => totals.getByTestId('total-gross').textContent(), { timeout: 10_000 }).toBe(`${amountsText(report.totals.gross)} (${report.totals.earnings} earnings)`);
    expect(await totals.getByTestId('total-cost').textContent()).toMatch(new RegExp(`^${escapeRe(amountsText(report.totals.energyCost))} \\(`));
    expect(await totals.getByTestId('total-net').textContent()).toBe(amountsText(report.totals.net));
    expect(report.totals.net).toEqual({ EUR: microsToDecimal(decimalToMicros(report.totals.fiatValue.EUR!) - decimalToMicros(report.totals.energyCost.EUR!)) });
    const note = await totals.getByTestId('unvalued-note').textContent();
    expect(note).toContain(`${UNVALUED_HOURS_AGO.length} earnings have no fiat value`);
    expect(note).toContain(amountsText(report.totals.unvalued));

    // uPlot draws on a canvas, and says so with the performance mark the bench measures up to.
    const chart = page.getByTestId('earnings-chart');
    await expect.poll(() => chart.locator('canvas').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    const marks = () => page.evaluate((name) => performance.getEntriesByName(name, 'mark').length, CHART_DRAWN_MARK);
    await expect.poll(marks, { timeout: 10_000 }).toBeGreaterThan(0);
    await shot(page, '30-earnings-year-by-day');

    // Hour: a new query with groupBy=hour, and the chart drawn again with its data.
    const before = await marks();
    const hourResponse = page.waitForResponse((res) => {
      const url = new URL(res.url());
      return url.pathname === '/api/v1/earnings' && url.searchParams.get('groupBy') === 'hour';
    });
    await controls.getByLabel('Group by').selectOption({ label: 'Hour' });
    const hourQuery = new URL((await hourResponse).url());
    expect(hourQuery.searchParams.get('from')).toBe(from);
    expect(hourQuery.searchParams.get('to')).toBe(to);
    await expect.poll(marks, { timeout: 20_000 }).toBeGreaterThan(before);

    // Export: every ledger entry in the range, one line each after the header.
    const download = page.waitForEvent('download');
    await controls.getByRole('button', { name: 'Export CSV' }).click();
    const file = await (await download).path();
    const csv = readFileSync(file, 'utf8');
    const lines = csv.split('\r\n').filter((l) => l !== '');
    expect(lines[0]).toBe(CSV_HEADER);
    expect(lines.length - 1).toBe(inRange.length);
    expect(csv.split('\r\n').filter((l) => l.includes(',earning,render-net,') && l.includes('unvalued-')).length).toBe(UNVALUED_HOURS_AGO.length);

    await page.emulateMedia({ colorScheme: 'light' });
    await shot(page, '31-earnings-year-by-hour');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(300);
    await shot(page, '31-earnings-year-by-hour-dark');

    expect(await violations()).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('Power: live power with its basis, a flat tariff made in the editor prices "now", a bad CSV row is named by line', async () => {
    const { page, problems, violations } = await openPage();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Power' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Power', level: 1 }).isVisible(), { timeout: 10_000 }).toBe(true);

    // The CPU: RAPL here is usually root-only or absent, so either basis is right, but an
    // estimate must say why it is one.
    const cpu = page.getByTestId('live-power').locator('[data-testid="power-row"][data-device="cpu"]');
    await expect.poll(() => cpu.count(), { timeout: 10_000 }).toBe(1);
    const basis = await cpu.getByTestId('basis-badge').textContent();
    expect(['measured', 'estimated']).toContain(basis);
    if (basis === 'estimated') expect((await cpu.locator('.field-hint').textContent())?.trim()).toBeTruthy();

    // A flat tariff, added, named, priced and made active in the editor, then saved.
    const editor = page.getByTestId('tariff-editor');
    await editor.getByRole('button', { name: 'Add flat price tariff' }).click();
    const form = editor.getByTestId('tariff-form');
    await form.getByLabel('Tariff name', { exact: true }).fill('Home flat');
    await form.getByLabel('Currency', { exact: true }).fill('EUR');
    await form.getByLabel('Price per kWh', { exact: true }).fill('0.2734');
    await editor.getByLabel('Active tariff').selectOption({ label: 'Home flat' });
    await editor.getByRole('button', { name: 'Save tariffs' }).click();
    await expect.poll(() => editor.locator('.draft-state').textContent(), { timeout: 10_000 }).toBe('Saved');
    const tariffs = (await api('GET', '/tariffs')) as { active: string | null; tariffs: Array<{ id: string; name: string; currency: string; plan: unknown }> };
    expect(tariffs.tariffs).toHaveLength(1);
    expect(tariffs.tariffs[0]).toMatchObject({ name: 'Home flat', currency: 'EUR', plan: { kind: 'flat', perKwh: '0.2734' } });
    expect(tariffs.active).toBe(tariffs.tariffs[0]!.id);
    // The page loads the power view again after a save: the price now is the new tariff's.
    await expect.poll(() => page.getByTestId('price-now').textContent(), { timeout: 10_000 }).toMatch(/^0\.2734 EUR per kWh/);
    await shot(page, '32-power-flat-tariff');

    // A price table with one row whose start has no offset: refused by its line, the rest read.
    await editor.getByRole('button', { name: 'Add dynamic (price table) tariff' }).click();
    const csv = ['start,end,price', '2025-01-06T00:00Z,2025-01-06T00:30Z,0.152', '2025-01-06 00:30,2025-01-06T01:00Z,0.091', '2025-01-06T01:00Z,2025-01-06T01:30Z,0.21', ''].join('\n');
    await editor.getByLabel('Or paste the table').fill(csv);
    await editor.getByRole('button', { name: 'Preview prices' }).click();
    const errors = editor.getByTestId('csv-errors');
    await expect.poll(() => errors.textContent(), { timeout: 10_000 }).toContain('line 3: the start "2025-01-06 00:30" has no UTC offset');
    expect(await errors.textContent()).not.toMatch(/line [124]:/);
    expect(await editor.getByTestId('csv-summary').textContent()).toMatch(/^2 prices from/);
    await shot(page, '33-power-csv-error');
    // Not saved: the agent still has only the flat tariff.
    await editor.getByRole('button', { name: 'Discard changes' }).click();
    expect(((await api('GET', '/tariffs')) as { tariffs: unknown[] }).tariffs).toHaveLength(1);

    expect(await violations()).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
