// The render engine on this machine: which Blender the jobs run with, the sandbox around it, and
// how fast each device rendered the benchmark scene (what earnings and power estimates start from).
// Loaded when the page opens and again whenever a job finishes, since a job is how the agent learns.
import { useEffect, useId, useState } from 'react';
import type { RenderDeviceChoice, RenderEngineInfo } from '../../protocol/index.js';
import { formatDateTime } from '../format.js';
import { canAct, useAgent } from '../use-agent.js';
import { DEVICE_CHOICES } from './words.js';

/** "2.6 M samples/s": pixels x samples per second, the way render benchmarks count. */
export function formatSpeed(samplesPerSecond: number): string {
  if (samplesPerSecond >= 1e9) return `${(samplesPerSecond / 1e9).toFixed(1)} G samples/s`;
  if (samplesPerSecond >= 1e6) return `${(samplesPerSecond / 1e6).toFixed(1)} M samples/s`;
  if (samplesPerSecond >= 1e3) return `${(samplesPerSecond / 1e3).toFixed(1)} k samples/s`;
  return `${Math.round(samplesPerSecond)} samples/s`;
}

export function EngineCard() {
  const { state, agent } = useAgent();
  const ids = useId();
  const [info, setInfo] = useState<RenderEngineInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [device, setDevice] = useState<RenderDeviceChoice>('CPU');
  // Reload when a job reaches an end: the first one tells the agent which Blender runs here, a
  // benchmark adds its speed.
  const finished = state.jobs?.filter((j) => j.finishedAt !== null).length ?? 0;

  useEffect(() => {
    let live = true;
    void agent.loadRenderEngine().then((r) => {
      if (!live) return;
      if (r.ok) {
        setInfo(r.value);
        setError(null);
      } else setError(r.error.message);
    });
    return () => {
      live = false;
    };
  }, [agent, finished]);

  const env = info?.environment ?? null;
  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="engine-card">
      <h2 id={`${ids}-title`} className="card-title">
        Render engine
      </h2>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <dl className="facts">
        <div>
          <dt>Blender</dt>
          <dd data-testid="engine-blender">
            {env ? (
              <>
                {env.blender.version} <code className="path">{env.blender.path}</code>{' '}
                <span className="muted">({env.blender.source === 'setting' ? 'your setting' : `found: ${env.blender.source}`})</span>
              </>
            ) : info?.blenderSetting ? (
              <>
                <code className="path">{info.blenderSetting}</code> <span className="muted">(your setting; checked when the next job starts)</span>
              </>
            ) : (
              <span className="muted">Looked for when the next job starts (PATH and the usual install places). Set a path in Settings to choose one.</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Sandbox</dt>
          <dd data-testid="engine-sandbox">
            {env ? (env.sandbox.kind === 'bubblewrap' ? 'bubblewrap: only the job’s folder is writable, no network' : `none: ${env.sandbox.note ?? 'not available here'}`) : <span className="muted">Not checked yet.</span>}
          </dd>
        </div>
      </dl>
      <h3 className="card-subtitle">Benchmark</h3>
      {info && info.benchmarks.length === 0 && <p className="muted">No benchmark yet. It renders a small built-in scene to measure each device.</p>}
      {info && info.benchmarks.length > 0 && (
        <table className="table" data-testid="benchmarks">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Speed</th>
              <th scope="col">Scene</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {info.benchmarks.map((b) => (
              <tr key={b.device}>
                <td>{DEVICE_CHOICES.find((c) => c.value === b.device)?.label ?? b.device}</td>
                <td data-testid="benchmark-speed">{formatSpeed(b.samplesPerSecond)}</td>
                <td>
                  {b.width}×{b.height}, {b.samples} samples in {b.renderS.toFixed(2)} s ({b.blender})
                </td>
                <td>{formatDateTime(b.at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="actions">
        <label htmlFor={`${ids}-device`} className="visually-hidden">
          Device to benchmark
        </label>
        <select id={`${ids}-device`} className="select" value={device} onChange={(e) => setDevice(e.target.value as RenderDeviceChoice)}>
          {DEVICE_CHOICES.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
        <button type="button" className="button button-secondary" disabled={!canAct(state)} aria-busy={state.pending === 'benchmark'} onClick={() => void agent.runBenchmark(device)}>
          Run benchmark
        </button>
      </div>
      <p className="muted">It runs like any job: only when your schedule allows, and it stops the moment you need the machine.</p>
    </section>
  );
}
