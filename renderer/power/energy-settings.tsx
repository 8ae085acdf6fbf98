// The two knobs between a sensor's watts and the wall's: the PSU efficiency, and a calibration
// against a wall meter. Calibration needs work running on the device (the agent compares the
// meter with its own figure at that moment), so a refusal says how to start some.
import { useId, useState } from 'react';
import type { ActionError } from '../agent-connection.js';
import type { EnergySettings, FieldError, PowerView } from '../../protocol/index.js';
import { formatDateTime } from '../format.js';
import { canAct, useAgent } from '../use-agent.js';
import { TextField } from './text-field.js';
import { benchmarkChoiceFor, deviceLabel, normalizeDecimal } from './words.js';

/** The text as a number for the schema to judge; text that is no number stays NaN and is refused. */
function numberOf(text: string): number {
  const t = normalizeDecimal(text);
  return t === '' ? Number.NaN : Number(t);
}

export function EnergySettingsCard({ view, onSaved }: { view: PowerView; onSaved: (settings: EnergySettings) => void }) {
  const { state, agent } = useAgent();
  const ids = useId();
  const [psu, setPsu] = useState(String(view.settings.psuEfficiency));
  const [psuErrors, setPsuErrors] = useState<FieldError[]>([]);
  const [saved, setSaved] = useState(false);

  const savePsu = async () => {
    setSaved(false);
    const result = await agent.patchEnergySettings({ psuEfficiency: numberOf(psu) });
    if (!result.ok) {
      setPsuErrors(result.error.fields?.filter((f) => f.path === 'psuEfficiency' || f.path === '(body)') ?? [{ path: 'psuEfficiency', message: result.error.message }]);
      return;
    }
    setPsuErrors([]);
    setSaved(true);
    setPsu(String(result.value.psuEfficiency));
    onSaved(result.value);
  };

  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="energy-settings">
      <h2 id={`${ids}-title`} className="card-title">
        From sensor to wall
      </h2>
      <form
        className="queue-form"
        onSubmit={(e) => {
          e.preventDefault();
          void savePsu();
        }}
      >
        <TextField
          label="PSU efficiency"
          value={psu}
          inputMode="decimal"
          onChange={(v) => {
            setPsu(v);
            setSaved(false);
          }}
          errors={psuErrors}
          hint="From 0.5 to 1. Sensors see the device, the meter sees the wall: 0.9 fits most 80 PLUS Gold power supplies."
        />
        <div className="form-actions">
          <button type="submit" className="button button-secondary" disabled={!canAct(state)} aria-busy={state.pending === 'energy-settings'}>
            Save PSU efficiency
          </button>
          {saved && (
            <span className="form-status" role="status">
              Saved
            </span>
          )}
        </div>
      </form>
      <h3 className="card-subtitle">Calibrate with a wall meter</h3>
      <p className="field-hint">
        {view.settings.calibratedAt
          ? `Calibrated ${formatDateTime(view.settings.calibratedAt)}: factor ×${view.settings.calibrationFactor.toFixed(2)}.`
          : 'Not calibrated: the sensors’ figures are used as they are.'}
      </p>
      <CalibrationForm view={view} onSaved={onSaved} />
    </section>
  );
}

function CalibrationForm({ view, onSaved }: { view: PowerView; onSaved: (settings: EnergySettings) => void }) {
  const { state, agent } = useAgent();
  const ids = useId();
  const devices = view.snapshot.devices;
  const names = new Map(devices.map((d) => [d.device, d.name]));
  const [device, setDevice] = useState(devices[0]?.device ?? 'cpu');
  const [idle, setIdle] = useState('');
  const [load, setLoad] = useState('');
  const [error, setError] = useState<ActionError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [benchmark, setBenchmark] = useState<string | null>(null);

  const fieldErrors = (path: string) => error?.fields?.filter((f) => f.path === path) ?? [];
  const notRunning = error?.code === 'not_running';
  const otherError = error && !notRunning && (error.fields?.length ?? 0) === 0 ? error.message : null;
  const formErrors = error?.fields?.filter((f) => !['meterIdleWatts', 'meterLoadWatts', 'device'].includes(f.path)) ?? [];

  const calibrate = async () => {
    setDone(null);
    const result = await agent.calibrate({ device, meterIdleWatts: numberOf(idle), meterLoadWatts: numberOf(load) });
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setError(null);
    setDone(`Calibrated: factor ×${result.value.calibrationFactor.toFixed(2)}.`);
    onSaved(result.value);
  };

  const startBenchmark = async () => {
    const result = await agent.runBenchmark(benchmarkChoiceFor(device));
    setBenchmark(result.ok ? 'The benchmark is queued. It runs when your schedule allows; read the meter while it renders.' : `The benchmark was not queued: ${result.error.message}`);
  };

  return (
    <form
      className="queue-form"
      data-testid="calibration-form"
      onSubmit={(e) => {
        e.preventDefault();
        void calibrate();
      }}
    >
      <div className="form-field">
        <label htmlFor={`${ids}-device`}>Device under load</label>
        <select id={`${ids}-device`} className="select" value={device} onChange={(e) => setDevice(e.target.value)}>
          {(devices.length > 0 ? devices.map((d) => d.device) : ['cpu']).map((d) => (
            <option key={d} value={d}>
              {deviceLabel(d, names)}
            </option>
          ))}
        </select>
      </div>
      <TextField label="Meter at idle" unit="W" inputMode="decimal" value={idle} onChange={setIdle} errors={fieldErrors('meterIdleWatts')} hint="Before any work runs." />
      <TextField label="Meter under load" unit="W" inputMode="decimal" value={load} onChange={setLoad} errors={fieldErrors('meterLoadWatts')} hint="While the benchmark renders on this device." />
      {formErrors.length > 0 && (
        <p className="field-error form-field-wide" data-testid="field-error">
          {formErrors.map((f) => f.message).join(' · ')}
        </p>
      )}
      {notRunning && (
        <div className="banner banner-warning form-field-wide" role="alert" data-testid="calibration-not-running">
          <div className="banner-text">
            <p className="banner-title">Nothing is running on {deviceLabel(device, names)} right now.</p>
            <p>
              Start the benchmark on it (here or on the Jobs page), wait until it renders, read the meter, then calibrate while it still runs. The agent needs
              the load at the same moment as the meter.
            </p>
          </div>
          <button type="button" className="button button-small button-secondary" disabled={!canAct(state)} onClick={() => void startBenchmark()}>
            Start the benchmark
          </button>
        </div>
      )}
      {otherError && (
        <p className="field-error form-field-wide" role="alert">
          {otherError}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="button button-secondary" disabled={!canAct(state)} aria-busy={state.pending === 'calibrate'}>
          Calibrate
        </button>
        {done && (
          <span className="form-status" role="status">
            {done}
          </span>
        )}
        {benchmark && (
          <span className="form-status" role="status" data-testid="benchmark-status">
            {benchmark}
          </span>
        )}
      </div>
    </form>
  );
}
