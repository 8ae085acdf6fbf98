import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { EarningsBucket, EarningsQuery, EarningsReport } from '../../protocol/index.js';
import { App } from '../../renderer/app.js';
import type { DrawChart } from '../../renderer/earnings/chart-drawer.js';
import { ChartContext } from '../../renderer/earnings/earnings-chart.js';
import type { ChartSeries } from '../../renderer/earnings/sums.js';
import { createHarness, emptyFigures, FakeAgent } from './fake-agent.js';
import { freshPageForEachTest } from './render-app.js';

freshPageForEachTest();

beforeEach(() => {
  window.history.replaceState(null, '', '/#/earnings');
});

// happy-dom has no canvas, so uPlot cannot draw here: the page gets a drawer that records what it
// was asked to plot (the seam is ChartContext; uPlot itself is exercised in the browser).
function recordingChart() {
  const drawn: ChartSeries[] = [];
  const draw: DrawChart = (_container, data) => {
    drawn.push(data);
    return { update: (d) => drawn.push(d), dispose: () => undefined };
  };
  return { drawn, draw };
}

function bucket(start: string, key: string, figures: Partial<EarningsBucket>): EarningsBucket {
  return { ...emptyFigures(), start, label: start.slice(0, 10), key, ...figures };
}

function report(query: EarningsQuery): EarningsReport {
  const by = query.by !== undefined;
  return {
    query,
    buckets: [
      bucket('2025-01-05T00:00:00.000Z', by ? 'hub.example' : 'all', { gross: { USDC: '1.50' }, fiatValue: { EUR: '1.38' }, energyCost: { EUR: '0.40' }, net: { EUR: '0.98' }, earnings: 3, energyMwh: 1_400_000 }),
      bucket('2025-01-06T00:00:00.000Z', by ? 'hub.example' : 'all', { gross: { USDC: '0.75', FIL: '0.02' }, fiatValue: { EUR: '0.69' }, unvalued: { FIL: '0.02' }, unvaluedCount: 2, energyCost: { EUR: '0.25' }, net: { EUR: '0.44' }, earnings: 3 }),
    ],
    totals: {
      gross: { USDC: '2.25', FIL: '0.02' },
      fiatValue: { EUR: '2.07' },
      unvalued: { FIL: '0.02' },
      unvaluedCount: 2,
      energyCost: { EUR: '0.65' },
      energyMwh: 2_300_000,
      net: { EUR: '1.42' },
      payouts: {},
      earnings: 6,
    },
    hourAligned: true,
  };
}

async function openEarnings(setup: (agent: FakeAgent) => void = () => undefined) {
  const agent = new FakeAgent();
  setup(agent);
  const chart = recordingChart();
  const h = createHarness({ agent });
  h.connection.start();
  render(
    <ChartContext.Provider value={chart.draw}>
      <App connection={h.connection} />
    </ChartContext.Provider>,
  );
  await screen.findByRole('heading', { name: 'Earnings', level: 1 });
  return { ...h, chart };
}

const earningsQueries = (agent: FakeAgent) => agent.requests.filter((r) => r.path === '/api/v1/earnings').map((r) => Object.fromEntries(new URL(r.url).searchParams));

describe('earnings page', () => {
  it('says so when the ledger has nothing in the range', async () => {
    await openEarnings();
    const empty = await screen.findByTestId('empty-state');
    expect(empty.textContent).toContain('Nothing in the ledger for this range.');
    expect(screen.queryByTestId('earnings-chart')).toBeNull();
  });

  it('shows the totals, and honestly what is not in the net', async () => {
    const h = await openEarnings((a) => (a.earningsFor = report));
    const totals = await screen.findByTestId('earnings-totals');
    expect(within(totals).getByTestId('total-gross').textContent).toContain('2.25 USDC · 0.02 FIL');
    expect(within(totals).getByTestId('total-cost').textContent).toContain('0.65 EUR');
    expect(within(totals).getByTestId('total-cost').textContent).toContain('2.30 kWh');
    expect(within(totals).getByTestId('total-net').textContent).toBe('1.42 EUR');
    expect(screen.getByTestId('unvalued-note').textContent).toContain('2 earnings have no fiat value and are not in the net (0.02 FIL)');
    // The chart got gross value, cost and net per bucket, as numbers only there.
    expect(h.chart.drawn.at(-1)).toEqual({ currency: 'EUR', x: [1736035200, 1736121600], earned: [1.38, 0.69], cost: [0.4, 0.25], net: [0.98, 0.44] });
    expect(earningsQueries(h.agent)[0]).toMatchObject({ groupBy: 'day' });
  });

  it('asks again with the grouping and split the user picks', async () => {
    const h = await openEarnings((a) => (a.earningsFor = report));
    await screen.findByTestId('earnings-totals');
    fireEvent.change(screen.getByLabelText('Group by'), { target: { value: 'hour' } });
    await waitFor(() => expect(earningsQueries(h.agent).at(-1)).toMatchObject({ groupBy: 'hour' }));
    expect(earningsQueries(h.agent).at(-1)!.by).toBeUndefined();
    fireEvent.change(screen.getByLabelText('Split by'), { target: { value: 'network' } });
    await waitFor(() => expect(earningsQueries(h.agent).at(-1)).toMatchObject({ groupBy: 'hour', by: 'network' }));
    const split = await screen.findByTestId('earnings-split');
    const row = within(split).getByTestId('split-row');
    expect(row.textContent).toContain('hub.example');
    // Summed exactly from decimal text: 1.50 + 0.75.
    expect(row.textContent).toContain('2.25 USDC');
    expect(row.textContent).toContain('1.42 EUR');

    fireEvent.change(screen.getByLabelText('Range'), { target: { value: '12m' } });
    await waitFor(() => expect(earningsQueries(h.agent).at(-1)).toMatchObject({ groupBy: 'month', by: 'network' }));
    const q = earningsQueries(h.agent).at(-1)!;
    const days = (Date.parse(q.to!) - Date.parse(q.from!)) / 86_400_000;
    expect(days).toBeGreaterThanOrEqual(365);
    expect(days).toBeLessThanOrEqual(366.1);
    expect(q.timeZone).toBeTruthy();
  });

  it('exports the selected range as CSV through the connection', async () => {
    const saved: Blob[] = [];
    const create = vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => {
      saved.push(b as Blob);
      return 'blob:test';
    });
    const h = await openEarnings((a) => {
      a.earningsFor = report;
      a.earningsCsv = 'type,id\nearning,e1\n';
    });
    await screen.findByTestId('earnings-totals');
    fireEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    await waitFor(() => expect(saved).toHaveLength(1));
    const exportReq = h.agent.requests.find((r) => r.path === '/api/v1/earnings/export.csv')!;
    const shown = earningsQueries(h.agent).at(-1)!;
    const sent = Object.fromEntries(new URL(exportReq.url).searchParams);
    expect(sent).toEqual({ from: shown.from, to: shown.to, timeZone: shown.timeZone });
    expect(exportReq.authorization).toBe(`Bearer ${h.agent.token}`);
    expect(await saved[0]!.text()).toBe('type,id\nearning,e1\n');
    create.mockRestore();
  });
});

describe('chart axis', () => {
  it('shows as many decimals as the tick step needs, so small hourly amounts do not repeat', async () => {
    const { tickDecimals } = await import('../../renderer/earnings/uplot-chart.js');
    expect(tickDecimals([0, 0.002, 0.004]).toString()).toBe('3');
    expect([0, 0.002, 0.004].map((t) => t.toFixed(tickDecimals([0, 0.002, 0.004])))).toEqual(['0.000', '0.002', '0.004']);
    expect(tickDecimals([0, 5, 10])).toBe(2);
    expect(tickDecimals([0, 0.0000001])).toBe(6);
  });
});
