import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeAgent, makeHub } from './fake-agent.js';
import { freshPageForEachTest, renderDashboard } from './render-app.js';

freshPageForEachTest();

beforeEach(() => {
  window.history.replaceState(null, '', '/#/networks');
});

async function openNetworks(setup: (agent: FakeAgent) => void = () => undefined) {
  const agent = new FakeAgent();
  setup(agent);
  const h = await renderDashboard({ agent });
  await screen.findByRole('heading', { name: 'Networks', level: 1 });
  await screen.findByTestId('hubs');
  return { ...h, agent };
}

const VOUCHER = {
  voucher: { payer: '0x8ba1f109551bD432803012645Ac136ddd64DBA72', payee: '0x52908400098527886E0F7030069857D2E4169EE7', token: '0x5FbDB2315678afecb367f032d93F642f64180aa3', cumulativeAmount: '160000', expiry: 1738832400 },
  signature: `0x${'ab'.repeat(64)}1b`,
  domain: { name: 'Offhours Escrow', version: '1', chainId: 31337, verifyingContract: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512' },
};

const row = (id: string) => screen.getAllByTestId('hub-row').find((r) => r.dataset.id === id)!;

describe('networks page', () => {
  it('says when no work is being taken, and that no hub is added', async () => {
    await openNetworks();
    expect(screen.getByTestId('networks-leasing-note').textContent).toMatch(/no work is being taken/);
    expect(screen.getByTestId('no-hubs').textContent).toMatch(/No hubs added/);
    expect(screen.queryByTestId('empty-state')).toBeNull();
  });

  it('lists each hub with its state, reason, registration and earnings', async () => {
    await openNetworks((a) => {
      a.hubs = [
        makeHub({
          id: 'hub.example',
          registration: { nodeAddress: '0x8ba1f109551bD432803012645Ac136ddd64DBA72', payoutAddress: '0x52908400098527886E0F7030069857D2E4169EE7', registeredAt: '2025-01-06T09:00:00.000Z' },
          wants: { heartbeatEveryS: 30 },
          earnings: { USDC: '1.25' },
        }),
        makeHub({ id: '127.0.0.1:8787', url: 'http://127.0.0.1:8787', state: 'refused', reason: 'No payout address: set a payout address in Settings → Payouts, and Offhours registers with this hub.', lastContactAt: null }),
        makeHub({ id: 'down.example', url: 'https://down.example', state: 'backing-off', reason: 'The hub cannot be reached (ECONNREFUSED).', retryAt: '2025-01-06T09:01:00.000Z' }),
      ];
    });
    const ok = row('hub.example');
    expect(within(ok).getByTestId('hub-state').textContent).toBe('Connected');
    expect(within(ok).getByTestId('hub-earnings').textContent).toBe('1.25 USDC');
    expect(within(ok).getByTestId('hub-registration').textContent).toMatch(/Pays to 0x52908400098527886E0F7030069857D2E4169EE7/);
    expect(within(ok).getByTestId('hub-registration').textContent).toMatch(/heartbeat every 30 s/);
    const refused = row('127.0.0.1:8787');
    expect(within(refused).getByTestId('hub-state').textContent).toBe('Not registered');
    expect(within(refused).getByTestId('hub-reason').textContent).toMatch(/Settings → Payouts/);
    expect(within(refused).getByTestId('hub-last-contact').textContent).toBe('never');
    expect(within(refused).getByTestId('hub-earnings').textContent).toBe('nothing yet');
    const down = row('down.example');
    expect(within(down).getByTestId('hub-state').textContent).toBe('Retrying');
    expect(within(down).getByTestId('hub-reason').textContent).toMatch(/cannot be reached/);
    expect(within(down).getByTestId('hub-reputation').textContent).toBe('not reported');
  });

  it('shows the reputation, the task at work, the voucher behind the earnings and a refused voucher', async () => {
    await openNetworks((a) => {
      a.vouchers = { 'hub.example': VOUCHER };
      a.hubs = [
        makeHub({
          id: 'hub.example',
          reputation: { score: 0.9, passed: 16, failed: 0 },
          working: { taskId: 't_1', title: 'intro frame 12 · hub.example' },
          earnings: { USDC: '0.16' },
          payments: { voucherTotal: '0.16', token: 'USDC', voucherExpiresAt: '2025-02-06T09:00:00.000Z', refused: null, lastSyncAt: '2025-01-06T09:00:00.000Z' },
        }),
        makeHub({
          id: 'bad.example',
          url: 'https://bad.example',
          reputation: { score: 0.25, passed: 0, failed: 2 },
          payments: { voucherTotal: null, token: null, voucherExpiresAt: null, refused: 'the voucher is signed for chain 5, not 31337', lastSyncAt: null },
        }),
      ];
    });
    const good = row('hub.example');
    expect(within(good).getByTestId('hub-reputation').textContent).toMatch(/90 % \(good\)16 verified, 0 refused/);
    expect(within(good).getByTestId('hub-working').textContent).toBe('Working on intro frame 12 · hub.example');
    expect(within(good).getByTestId('hub-voucher').textContent).toMatch(/signed voucher for 0.16 USDC, redeemable until/);
    expect(within(good).queryByTestId('hub-voucher-refused')).toBeNull();
    // The voucher goes to the clipboard as JSON, for a wallet or a relayer to redeem.
    fireEvent.click(within(good).getByTestId('hub-copy-voucher'));
    await waitFor(() => expect(within(good).getByTestId('hub-copy-voucher').textContent).toBe('Voucher copied'));
    expect(JSON.parse(await navigator.clipboard.readText())).toEqual(VOUCHER);
    const bad = row('bad.example');
    expect(within(bad).getByTestId('hub-reputation').textContent).toMatch(/25 % \(poor: the hub offers work to others first\)/);
    expect(within(bad).getByTestId('hub-voucher-refused').textContent).toBe('Refused: the voucher is signed for chain 5, not 31337');
    expect(within(bad).queryByTestId('hub-voucher')).toBeNull();
  });

  it('adds a hub by URL and shows field errors for a URL with a path or one already added', async () => {
    const { agent } = await openNetworks();
    const input = screen.getByLabelText('Hub URL');
    fireEvent.change(input, { target: { value: 'https://hub.example/v1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add hub' }));
    expect(await screen.findByText('only the origin (https://hub.example), with no path')).toBeTruthy();
    // Checked in the page: nothing was sent.
    expect(agent.requests.some((r) => r.method === 'POST' && r.path.endsWith('/networks'))).toBe(false);

    fireEvent.change(input, { target: { value: 'https://hub.example' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add hub' }));
    await waitFor(() => expect(row('hub.example')).toBeTruthy());
    expect(within(row('hub.example')).getByTestId('hub-state').textContent).toBe('Connecting');
    expect((screen.getByRole('status') as HTMLElement).textContent).toBe('Added https://hub.example.');

    fireEvent.change(input, { target: { value: 'https://hub.example/' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add hub' }));
    expect(await screen.findByText('this hub is already added')).toBeTruthy();
  });

  it('removes a hub', async () => {
    const { agent } = await openNetworks((a) => (a.hubs = [makeHub()]));
    fireEvent.click(within(row('hub.example')).getByRole('button', { name: 'Remove hub.example' }));
    await screen.findByTestId('no-hubs');
    expect(agent.requests.some((r) => r.method === 'DELETE' && r.path.endsWith('/networks/hub.example'))).toBe(true);
  });
});
