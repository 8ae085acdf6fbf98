// A run leased from a hub books its electricity against that hub's network in the ledger, so the
// Earnings page's per-network figures net each network's pay against what its work cost; a local
// run stays under "local", and a key too long for the ledger's field is left unattributed.
import { describe, expect, it } from 'vitest';
import { EnergyService } from '../../agent/energy/energy-service.js';
import { TariffStore } from '../../agent/energy/tariff-store.js';
import type { PowerSampler, MeterResult } from '../../agent/energy/power-sampler.js';
import { Ledger } from '../../agent/ledger/ledger.js';
import { useTempDirs } from '../support/tmp.js';
import { silentLog } from './signals-support.js';

describe('energy of a run, by network', () => {
  const tmp = useTempDirs();

  it('books a hub run under its network key, a local run under local, and an over-long key as unattributed', () => {
    const dataDir = tmp();
    const ledger = Ledger.open(dataDir);
    const meter = (jobId: string): MeterResult => ({
      jobId,
      device: 'cpu',
      mwhMarginal: 12_000n,
      mwhDevice: 13_000n,
      basis: 'estimated',
      from: '2026-11-25T10:00:00.000Z',
      to: '2026-11-25T10:10:00.000Z',
      coveredMs: 600_000,
      uncoveredMs: 0,
    });
    const sampler = { stopMeter: (jobId: string) => meter(jobId) } as unknown as PowerSampler;
    const energy = new EnergyService({
      dataDir,
      sampler,
      ledger,
      tariffs: new TariffStore(dataDir),
      settings: () => ({}) as never,
      flatPrice: () => ({ currency: 'EUR', perKwh: '0.30' }),
      timeZone: () => 'UTC',
      sink: { update: () => undefined } as never,
      busy: () => new Set(),
      log: silentLog,
    });
    try {
      energy.runEnded({ jobId: 'hub-job', title: 't', device: 'cpu', succeeded: true, local: false, benchmark: false, network: '127.0.0.1:8787' });
      energy.runEnded({ jobId: 'own-job', title: 't', device: 'cpu', succeeded: true, local: true, benchmark: false });
      energy.runEnded({ jobId: 'long-job', title: 't', device: 'cpu', succeeded: true, local: false, benchmark: false, network: `${'h'.repeat(120)}:1` });
      const report = ledger.query({ from: '2026-11-25T00:00:00.000Z', to: '2026-11-26T00:00:00.000Z', groupBy: 'day', by: 'network' });
      const byNetwork = Object.fromEntries(report.buckets.map((b) => [b.key, b]));
      // 12 Wh at 0.30 a kWh each.
      expect(byNetwork['127.0.0.1:8787']?.energyCost).toEqual({ EUR: '0.0036' });
      expect(byNetwork['local']?.energyCost).toEqual({ EUR: '0.0036' });
      expect(byNetwork['127.0.0.1:8787']?.energyMwh).toBe(12_000);
      expect(Object.keys(byNetwork)).toHaveLength(3);
      expect(Object.keys(byNetwork).some((k) => k.startsWith('hhhh'))).toBe(false);
    } finally {
      ledger.close();
    }
  });
});
