import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Season, Tariff, TariffSettings } from '../../protocol/index.js';
import { FakeAgent, json } from './fake-agent.js';
import { freshPageForEachTest, renderDashboard } from './render-app.js';

freshPageForEachTest();

beforeEach(() => {
  window.history.replaceState(null, '', '/#/power');
});

const allYear: Season = {
  name: 'All year',
  from: '01-01',
  to: '12-31',
  defaultPerKwh: '0.30',
  bands: [{ name: 'Night', days: 'all', from: '00:00', to: '07:00', perKwh: '0.20' }],
};

const touTariff: Tariff = { id: 'home', name: 'Home', currency: 'EUR', timeZone: null, plan: { kind: 'timeOfUse', seasons: [allYear] } };

async function openPower(setup: (agent: FakeAgent) => void = () => undefined) {
  const agent = new FakeAgent();
  setup(agent);
  const h = await renderDashboard({ agent });
  await screen.findByRole('heading', { name: 'Power', level: 1 });
  return h;
}

const puts = (agent: FakeAgent) => agent.mutations().filter((m) => m.method === 'PUT' && m.path.endsWith('/tariffs'));

describe('power page', () => {
  it('says per device whether its watts are measured or estimated, and why', async () => {
    await openPower();
    const rows = await screen.findAllByTestId('power-row');
    const gpu = rows.find((r) => r.dataset.device === 'gpu:0')!;
    const cpu = rows.find((r) => r.dataset.device === 'cpu')!;
    expect(within(gpu).getByTestId('basis-badge').textContent).toBe('measured');
    expect(gpu.textContent).toContain('182 W');
    expect(gpu.textContent).toContain('14.2 W');
    expect(within(cpu).getByTestId('basis-badge').textContent).toBe('estimated');
    expect(cpu.textContent).toContain('RAPL is root-only on this kernel');
    expect(cpu.textContent).toContain('not learned yet');
    expect(screen.getByTestId('price-now').textContent).toMatch(/0\.2841 EUR per kWh.*Peak.*until \d\d:\d\d/);
    const profit = screen.getAllByTestId('profit-row').find((r) => r.dataset.device === 'gpu:0')!;
    expect(profit.textContent).toContain('jobs pay 0.1200 EUR/h, electricity costs 0.0558 EUR/h');
    expect(screen.getByTestId('job-costs').textContent).toContain('0.0080 EUR');
  });

  it('refuses a PSU efficiency out of range before sending, and saves one in range', async () => {
    const h = await openPower();
    const field = await screen.findByLabelText('PSU efficiency');
    fireEvent.change(field, { target: { value: '0.3' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save PSU efficiency' }));
    const card = screen.getByTestId('energy-settings');
    await waitFor(() => expect(within(card).getByTestId('field-error').textContent).toMatch(/0\.5|>=|too small/i));
    expect(field.getAttribute('aria-invalid')).toBe('true');
    expect(h.agent.mutations()).toEqual([]);

    fireEvent.change(field, { target: { value: '0,92' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save PSU efficiency' }));
    await waitFor(() => expect(h.agent.mutations()).toEqual([{ method: 'PATCH', path: '/api/v1/power/settings', body: { psuEfficiency: 0.92 } }]));
  });

  it('explains a 409 calibration: start the benchmark first, and can start it', async () => {
    const h = await openPower();
    const form = await screen.findByTestId('calibration-form');
    fireEvent.change(within(form).getByLabelText('Device under load'), { target: { value: 'gpu:0' } });
    fireEvent.change(within(form).getByLabelText('Meter at idle'), { target: { value: '62' } });
    fireEvent.change(within(form).getByLabelText('Meter under load'), { target: { value: '260' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Calibrate' }));
    const guidance = await screen.findByTestId('calibration-not-running');
    expect(guidance.textContent).toContain('Nothing is running on NVIDIA GeForce RTX 4070');
    expect(guidance.textContent).toContain('Jobs page');
    expect(h.agent.mutations()[0]).toEqual({ method: 'POST', path: '/api/v1/power/calibrate', body: { device: 'gpu:0', meterIdleWatts: 62, meterLoadWatts: 260 } });
    // The form explains it; the global alert stays away.
    expect(screen.queryByTestId('action-error')).toBeNull();
    fireEvent.click(within(guidance).getByRole('button', { name: 'Start the benchmark' }));
    await waitFor(() => expect(h.agent.mutations().at(-1)).toEqual({ method: 'POST', path: '/api/v1/render/benchmark', body: { device: 'auto' } }));
  });

  it('shows on the weekly grid which band covers each hour', async () => {
    await openPower((a) => (a.tariffs = { active: 'home', tariffs: [touTariff] }));
    const grid = await screen.findByTestId('band-grid');
    expect(within(grid).getByTestId('band-cell-wed-3').getAttribute('aria-label')).toBe('Wednesday 03:00–04:00: Night (0.20 EUR)');
    expect(within(grid).getByTestId('band-cell-wed-7').getAttribute('aria-label')).toBe('Wednesday 07:00–08:00: default price (0.30 EUR)');
  });

  it('sends exactly the edited tariffs when a band is changed and saved', async () => {
    const h = await openPower((a) => (a.tariffs = { active: 'home', tariffs: [touTariff] }));
    await screen.findByTestId('band-grid');
    fireEvent.change(screen.getByLabelText('Band 1 days'), { target: { value: 'weekend' } });
    fireEvent.change(screen.getByLabelText('Band 1 to'), { target: { value: '09:30' } });
    fireEvent.change(screen.getByLabelText('Band 1 price per kWh'), { target: { value: '0,18' } });
    // The grid follows the draft before it is saved.
    expect(screen.getByTestId('band-cell-sat-8').getAttribute('aria-label')).toContain('Night');
    expect(screen.getByTestId('band-cell-mon-3').getAttribute('aria-label')).toContain('default price');
    fireEvent.click(screen.getByRole('button', { name: 'Save tariffs' }));
    const expected: TariffSettings = {
      active: 'home',
      tariffs: [{ ...touTariff, plan: { kind: 'timeOfUse', seasons: [{ ...allYear, bands: [{ name: 'Night', days: 'weekend', from: '00:00', to: '09:30', perKwh: '0.18' }] }] } }],
    };
    await waitFor(() => expect(puts(h.agent)).toHaveLength(1));
    expect(puts(h.agent)[0]!.body).toEqual(expected);
    expect(await screen.findByText('Saved')).toBeTruthy();
  });

  it('shows the agent’s field errors next to their field', async () => {
    const h = await openPower((a) => (a.tariffs = { active: 'home', tariffs: [touTariff] }));
    await screen.findByTestId('band-grid');
    h.agent.override = (req) =>
      req.method === 'PUT'
        ? json({ error: { code: 'invalid_request', message: 'The tariffs have mistakes.', fields: [{ path: 'tariffs.0.plan.seasons.0.bands.0.perKwh', message: 'higher than any tariff we know' }] } }, 400)
        : undefined;
    fireEvent.change(screen.getByLabelText('Band 1 price per kWh'), { target: { value: '90' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save tariffs' }));
    await screen.findByTestId('tariff-save-error');
    const price = screen.getByLabelText('Band 1 price per kWh');
    expect(price.getAttribute('aria-invalid')).toBe('true');
    const errorId = price.getAttribute('aria-describedby')!;
    expect(document.getElementById(errorId)!.textContent).toBe('higher than any tariff we know');
    expect(screen.queryByTestId('action-error')).toBeNull();
  });

  it('previews a CSV with its bad rows by line, then saves the slots in a dynamic tariff', async () => {
    const slots = [
      { start: '2025-01-06T00:00:00.000Z', end: '2025-01-06T00:30:00.000Z', perKwh: '0.1520' },
      { start: '2025-01-06T00:30:00.000Z', end: '2025-01-06T01:00:00.000Z', perKwh: '0.0910' },
      { start: '2025-01-06T01:00:00.000Z', end: '2025-01-06T01:30:00.000Z', perKwh: '0.2100' },
    ];
    const h = await openPower((a) => {
      a.csvPreview = () => ({ slots, errors: [{ line: 3, message: 'the price "n/a" is not a number' }], unit: 'minor' });
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Add dynamic (price table) tariff' }));
    const csv = 'start,end,price\n2025-01-06T00:00Z,2025-01-06T00:30Z,15.2\nx,y,n/a\n';
    fireEvent.change(screen.getByLabelText('Or paste the table'), { target: { value: csv } });
    fireEvent.change(screen.getByLabelText('Prices are in'), { target: { value: 'minor' } });
    fireEvent.click(screen.getByRole('button', { name: 'Preview prices' }));
    const errors = await screen.findByTestId('csv-errors');
    expect(errors.textContent).toContain('line 3: the price "n/a" is not a number');
    const summary = screen.getByTestId('csv-summary').textContent!;
    expect(summary).toMatch(/^3 prices from/);
    expect(summary).toContain('lowest 0.0910 and highest 0.2100');
    expect(h.agent.mutations()).toEqual([{ method: 'POST', path: '/api/v1/tariffs/import', body: { csv, unit: 'minor' } }]);

    fireEvent.click(screen.getByRole('button', { name: 'Use these 3 prices' }));
    expect(screen.getByTestId('slot-count').textContent).toBe('3 prices in the table.');
    fireEvent.click(screen.getByRole('button', { name: 'Save tariffs' }));
    await waitFor(() => expect(puts(h.agent)).toHaveLength(1));
    expect(puts(h.agent)[0]!.body).toEqual({
      active: 'dynamic',
      tariffs: [{ id: 'dynamic', name: 'Dynamic (price table)', currency: 'EUR', timeZone: null, plan: { kind: 'dynamic', fallbackPerKwh: '0.30', slots } }],
    });
  });
});
