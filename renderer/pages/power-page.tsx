// Power: what the machine draws while sharing (measured, or marked as estimated), what a kWh costs
// now, whether work pays for it, what each job cost, and the tariffs behind the prices. The live
// figures are polled while the page is open and visible; the agent samples on its own schedule.
import type { EnergySettings, PowerView } from '../../protocol/index.js';
import type { AgentConnection } from '../agent-connection.js';
import { PageHeader } from '../components/page-header.js';
import { EnergySettingsCard } from '../power/energy-settings.js';
import { JobCostsCard } from '../power/job-costs.js';
import { LivePowerCard, ProfitCard } from '../power/live-power.js';
import { TariffEditor } from '../power/tariff-editor.js';
import { usePolled } from '../use-polled.js';

/** Sensors are read about once a second; a few seconds keeps the numbers alive without chatter. */
export const POWER_REFRESH_MS = 5000;

const loadPower = (agent: AgentConnection) => agent.loadPower();

function usePowerView(): { view: PowerView | null; error: string | null; reload: () => void; setSettings: (s: EnergySettings) => void } {
  const { value: view, error, reload, setValue: setView } = usePolled(loadPower, POWER_REFRESH_MS);
  const setSettings = (settings: EnergySettings) => setView((v) => (v ? { ...v, settings, snapshot: { ...v.snapshot, psuEfficiency: settings.psuEfficiency, calibrationFactor: settings.calibrationFactor } } : v));
  return { view, error, reload, setSettings };
}

export function PowerPage() {
  const { view, error, reload, setSettings } = usePowerView();
  return (
    <>
      <PageHeader title="Power" subtitle="What sharing draws from the wall, what it costs at your tariff, and whether it pays." />
      {error && (
        <div className="banner banner-danger" role="alert" data-testid="power-error">
          <p className="banner-text">Could not load the power figures: {error}</p>
        </div>
      )}
      <div className="page-grid">
        {view ? (
          <>
            <LivePowerCard view={view} />
            <ProfitCard view={view} />
            <JobCostsCard view={view} />
            <EnergySettingsCard view={view} onSaved={setSettings} />
          </>
        ) : (
          !error && (
            <section className="card">
              <p className="muted">Loading the power figures…</p>
            </section>
          )
        )}
        {/* A saved tariff changes the price now and the profit: load them again. */}
        <TariffEditor onSaved={reload} />
      </div>
    </>
  );
}
