// The Earnings chart with a year of hourly history: the time from the end of the /api/v1/earnings
// response that carried 8,760 hourly buckets to the chart's CHART_DRAWN_MARK (parsing and checking
// the report, React, the series, uPlot's draw), in real Chromium (Debian's, playwright-core)
// against an agent started in this process with the built dashboard. Baseline in the same run: the
// same span for the last 24 hours (24 buckets). Each sample toggles Group by away from Hour and
// back, so every one is a fresh query and a fresh draw; the median is printed. Goal: <= 100 ms.
//
//   BENCH_EARNINGS_CHART_RUNS (7)
import './define-globals.js';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium as playwright, type Page } from 'playwright-core';
import { runAgent } from '../agent/agent.js';
import { Ledger } from '../agent/ledger/ledger.js';
import { dashboardUrl } from '../agent/process.js';
import type { LedgerEntry } from '../protocol/index.js';
import { CHART_DRAWN_MARK } from '../renderer/earnings/chart-drawer.js';
import { CHROMIUM_ARGS, chromium } from '../tests/support/external.js';
import { median, workDir } from './jobs-common.js';
import { emit, root } from './lib.mjs';

const browserPath = chromium().found;
const rendererDir = join(root, 'dist', 'renderer');
if (!browserPath) {
  process.stderr.write('earnings-chart: needs Chromium (CHROMIUM_PATH or /usr/bin/chromium); skipped\n');
  process.exit(0);
}
if (!existsSync(join(rendererDir, 'index.html'))) throw new Error(`the dashboard is not built (${rendererDir}): run "npm run build" first`);

const RUNS = Number(process.env.BENCH_EARNINGS_CHART_RUNS ?? 7);
const HOUR = 3_600_000;
const HOURS = 366 * 24 + 48;

/** Per hour one valued earning and one energy span, ending with the current hour. */
function history(now: number): LedgerEntry[] {
  const current = Math.floor(now / HOUR) * HOUR;
  const out: LedgerEntry[] = [];
  for (let i = HOURS - 1; i >= 0; i--) {
    const hour = current - i * HOUR;
    // Varying amounts, so uPlot draws real lines rather than flat ones it could shortcut.
    const amount = `0.0${String(10 + (i % 37)).padStart(2, '0')}`;
    out.push({
      type: 'earning',
      id: `earn-${hour}`,
      at: new Date(hour + 30 * 60_000).toISOString(),
      network: 'render-net',
      jobId: `job-${hour}`,
      device: 'gpu:0',
      amount,
      token: 'USDC',
      fiatValue: { currency: 'EUR', amount },
      proof: { kind: 'voucher', ref: `voucher-${hour}`, status: 'verified' },
    });
    out.push({
      type: 'energy',
      id: `energy-${hour}`,
      from: new Date(hour + 10 * 60_000).toISOString(),
      at: new Date(hour + 50 * 60_000).toISOString(),
      network: 'render-net',
      jobId: `job-${hour}`,
      device: 'gpu:0',
      mwh: 120_000 + (i % 61) * 1000,
      basis: 'measured',
      cost: `0.00${1 + (i % 9)}`,
      currency: 'EUR',
      tariffId: 'home',
    });
  }
  return out;
}

const dir = workDir('bench-earnings-chart-');
const dataDir = join(dir, 'data');
const ledger = Ledger.open(dataDir);
const entries = history(Date.now());
for (let i = 0; i < entries.length; i += 2000) ledger.appendMany(entries.slice(i, i + 2000));
ledger.close();

const agent = await runAgent({ dataDir, port: 0, rendererDir, sources: [] });
const consent = await fetch(`http://127.0.0.1:${agent.port}/api/v1/settings`, {
  method: 'PATCH',
  headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
  body: JSON.stringify({ consent: { accepted: true, version: 1 } }),
});
if (consent.status !== 200) throw new Error(`PATCH /settings: HTTP ${consent.status} ${await consent.text()}`);

const browser = await playwright.launch({ executablePath: browserPath, headless: true, args: CHROMIUM_ARGS.filter((a) => a !== '--headless') });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const problems: string[] = [];
page.on('pageerror', (err) => problems.push(err.message));

/** Waits for the earnings response with this groupBy, then for the draw that follows it. */
async function pick(p: Page, label: 'Hour' | 'Day', select: () => Promise<unknown>): Promise<void> {
  const groupBy = label.toLowerCase();
  const response = p.waitForResponse((res) => new URL(res.url()).pathname === '/api/v1/earnings' && new URL(res.url()).searchParams.get('groupBy') === groupBy);
  await p.evaluate((name) => {
    performance.clearMarks(name);
    performance.clearResourceTimings();
  }, CHART_DRAWN_MARK);
  await select();
  const res = await response;
  if (res.status() !== 200) throw new Error(`GET /api/v1/earnings (${groupBy}): HTTP ${res.status()}`);
  // A draw after that response ended: an earlier query's draw can land after the clear above.
  await p.waitForFunction(
    ([name, g]) => {
      const load = performance
        .getEntriesByType('resource')
        .filter((e): e is PerformanceResourceTiming => e.name.includes('/api/v1/earnings?') && new URL(e.name).searchParams.get('groupBy') === g)
        .at(-1);
      return load !== undefined && performance.getEntriesByName(name, 'mark').some((m) => m.startTime >= load.responseEnd);
    },
    [CHART_DRAWN_MARK, groupBy] as const,
    { timeout: 30_000 },
  );
}

/** ms from the end of the hourly report's response to the chart's mark, and the points drawn. */
async function drawTime(p: Page): Promise<{ ms: number; buckets: number }> {
  return p.evaluate((name) => {
    const loads = performance
      .getEntriesByType('resource')
      .filter((e): e is PerformanceResourceTiming => e.name.includes('/api/v1/earnings?') && new URL(e.name).searchParams.get('groupBy') === 'hour');
    if (loads.length !== 1) throw new Error(`expected one hourly load, got ${loads.length}`);
    const load = loads[0]!;
    // The first draw after the hourly data arrived is the one that shows it.
    const mark = performance.getEntriesByName(name, 'mark').find((m) => m.startTime >= load.responseEnd);
    if (!mark) throw new Error('no chart draw after the hourly load');
    const url = new URL(load.name);
    const hours = (Date.parse(url.searchParams.get('to')!) - Date.parse(url.searchParams.get('from')!)) / 3_600_000;
    return { ms: mark.startTime - load.responseEnd, buckets: Math.round(hours) };
  }, CHART_DRAWN_MARK);
}

async function measure(rangeLabel: string, runs: number): Promise<{ ms: number; buckets: number }> {
  const controls = page.getByTestId('earnings-controls');
  const groupBy = controls.getByLabel('Group by');
  // The range first (any grouping), then Hour: from then on every sample is Day -> Hour.
  await pick(page, 'Day', () => controls.getByLabel('Range').selectOption({ label: rangeLabel }).then(() => groupBy.selectOption({ label: 'Day' })));
  const times: number[] = [];
  let buckets = 0;
  // One more than counted: the first hourly draw of a range warms the JIT and the canvas.
  for (let i = 0; i <= runs; i++) {
    await pick(page, 'Hour', () => groupBy.selectOption({ label: 'Hour' }));
    const t = await drawTime(page);
    if (i > 0) times.push(t.ms);
    buckets = t.buckets;
    await pick(page, 'Day', () => groupBy.selectOption({ label: 'Day' }));
  }
  return { ms: median(times), buckets };
}

try {
  await page.goto(dashboardUrl(agent.url, agent.token));
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await page.evaluate(() => (location.hash = '#/earnings'));
  await page.getByTestId('earnings-controls').waitFor();
  // Alternating blocks, so a drift of the machine reaches both sides.
  const year: number[] = [];
  const day: number[] = [];
  let yearBuckets = 0;
  for (let block = 0; block < 2; block++) {
    const y = await measure('Last 12 months', RUNS);
    const d = await measure('Last 24 hours', RUNS);
    year.push(y.ms);
    day.push(d.ms);
    yearBuckets = y.buckets;
    process.stderr.write(`block ${block + 1}: year ${y.ms.toFixed(1)} ms (${y.buckets} hourly points), 24 h ${d.ms.toFixed(1)} ms (${d.buckets} points)\n`);
  }
  if (problems.length > 0) throw new Error(`page errors: ${problems.join('; ')}`);
  const yearMs = median(year);
  const dayMs = median(day);
  emit(`earnings chart: year by hour (${yearBuckets} points) response end -> drawn (goal <= 100 ms)`, yearMs, 'ms', dayMs);
} finally {
  await browser.close();
  await agent.stop();
  rmSync(dir, { recursive: true, force: true });
}
