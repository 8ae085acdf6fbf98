// Schedule: when Offhours may share this machine. The page edits a draft copy of the policy; the
// agent answers "would it run now?" for the draft as it is edited (POST /decision/preview), and
// Save replaces the whole policy at once (PATCH /settings), so nothing is ever half-saved.
import { useEffect, useId, useMemo, useState, type ReactNode } from 'react';
import {
  PRESETS,
  type Day,
  type Decision,
  type FieldError,
  type Policy,
  type Settings,
  type SignalsView,
  type Status,
  type UncheckableCondition,
} from '../../protocol/index.js';
import type { ActionError } from '../agent-connection.js';
import { PageHeader } from '../components/page-header.js';
import { routeHref } from '../routes.js';
import { errorsOf, FieldErrorText, NameList, NumberField, type ControlErrors } from '../schedule/fields.js';
import {
  canonical,
  controlForPath,
  editableTargets,
  getBattery,
  getIdleMinutes,
  getPauseForGames,
  getNetFloor,
  getPriceCap,
  getTemperature,
  getWindows,
  ifUnavailableOf,
  mainRuleIndex,
  setBattery,
  setIdleMinutes,
  setIfUnavailable,
  setPauseForGames,
  setNetFloor,
  setPriceCap,
  setTemperature,
  setWindows,
  targetLabel,
  targetsOf,
  type ControlId,
  type Sensor,
} from '../schedule/policy-draft.js';
import { WeekGrid } from '../schedule/week-grid.js';
import { actionWords, conditionWords, firstReason, RESOURCE_STATE_LABEL, signalWords, SIGNAL_WORDS, withoutStatePrefix } from '../schedule/words.js';
import { canAct, useAgent } from '../use-agent.js';

export const PREVIEW_DEBOUNCE_MS = 300;

export function SchedulePage({ status, settings }: { status: Status; settings: Settings | undefined }) {
  if (!settings) {
    return (
      <>
        <PageHeader title="Schedule" subtitle="When Offhours may share this machine." />
        <section className="card">
          <p className="loading-line">
            <span className="spinner" aria-hidden="true" /> Loading your schedule…
          </p>
        </section>
      </>
    );
  }
  return <ScheduleEditor status={status} saved={settings.policy} />;
}

// ---- time -------------------------------------------------------------------------------------

function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return 'UTC';
  }
}

function nowCell(at: Date, timeZone: string): { day: Day; hour: number } | null {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', hourCycle: 'h23' }).formatToParts(at);
    const day = parts.find((p) => p.type === 'weekday')?.value.slice(0, 3).toLowerCase() as Day | undefined;
    const hour = Number(parts.find((p) => p.type === 'hour')?.value);
    return day && Number.isInteger(hour) ? { day, hour } : null;
  } catch {
    return null;
  }
}

function useMinuteClock(): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const id = setInterval(() => setNow(new Date()), 30_000);
    return () => clearInterval(id);
  }, []);
  return now;
}

function timeZoneOptions(current: string | null): string[] {
  let zones: string[];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    zones = [];
  }
  const all = new Set(['UTC', ...zones]);
  if (current) all.add(current);
  return [...all];
}

// ---- the preview ------------------------------------------------------------------------------

interface PreviewState {
  checking: boolean;
  decision?: Decision;
  error?: ActionError;
}

/** Asks the agent what it would decide with the draft, PREVIEW_DEBOUNCE_MS after the last edit,
 * and again whenever the live decision changes (a signal moved). Overtaken answers are dropped. */
function usePreview(draft: Policy, draftKey: string, liveKey: string, enabled: boolean): PreviewState {
  const { agent } = useAgent();
  const [preview, setPreview] = useState<PreviewState>({ checking: enabled });
  useEffect(() => {
    if (!enabled) return;
    let current = true;
    setPreview((p) => (p.checking ? p : { ...p, checking: true }));
    const timer = setTimeout(() => {
      void agent.previewDecision(draft).then((result) => {
        if (!current) return;
        setPreview(result.ok ? { checking: false, decision: result.value } : { checking: false, error: result.error });
      });
    }, PREVIEW_DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
    // draft is followed through draftKey: same key, same policy.
  }, [agent, draftKey, liveKey, enabled]);
  return preview;
}

const isRunning = (state: string) => state === 'running' || state === 'limited';
const isCompute = (resource: string) => resource === 'cpu' || resource.startsWith('gpu');

/**
 * The answer for the line: about the CPU and GPUs when the machine has them (that is what a person
 * at the computer notices; storage is light and listed below), about every resource otherwise.
 * "Yes" when one of them would run; else "No" with the first reason of the first of them.
 */
export function runNowAnswer(d: Decision): { yes: true } | { yes: false; reason: string } {
  const compute = d.resources.filter((r) => isCompute(r.resource));
  const relevant = compute.length > 0 ? compute : d.resources;
  if (relevant.some((r) => isRunning(r.state))) return { yes: true };
  const first = relevant[0];
  return { yes: false, reason: withoutStatePrefix(first ? firstReason(first) : d.summary.reason.text) };
}

function RunNow({ preview }: { preview: PreviewState }) {
  const d = preview.decision;
  let answer: ReactNode;
  let tone = 'pending';
  let full: string | undefined;
  if (d) {
    const a = runNowAnswer(d);
    if (!a.yes) full = a.reason;
    if (a.yes) {
      tone = 'yes';
      answer = <strong>Yes</strong>;
    } else {
      tone = 'no';
      answer = (
        <>
          <strong>No</strong>: {a.reason}
        </>
      );
    }
  } else if (preview.error) {
    tone = 'error';
    answer = preview.error.fields?.length ? 'can’t tell until the marked mistakes are fixed' : `can’t tell (${preview.error.message})`;
  } else {
    answer = 'checking…';
  }
  return (
    <div className={`run-now tone-${tone}`}>
      <div className="run-now-head">
        <span className="run-now-dot" aria-hidden="true" />
        <p className="run-now-line" data-testid="would-run-now" aria-live="polite" title={full}>
          Would it run now? — {answer}
        </p>
        {preview.checking && d && (
          <span className="run-now-checking" data-testid="preview-checking">
            <span className="spinner spinner-inline" aria-hidden="true" /> checking…
          </span>
        )}
      </div>
      {d && d.resources.length > 0 && (
        <ul className="run-now-resources" aria-label="With these settings, right now">
          {d.resources.map((r) => (
            <li key={r.resource} data-testid="preview-resource" className={`res-${r.state}`} title={firstReason(r)}>
              <span className="mini-dot" aria-hidden="true" />
              <span className="run-now-res-text">
                <span className="run-now-res-label">{r.label}</span> {RESOURCE_STATE_LABEL[r.state]} — {firstReason(r)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

// ---- the editor ---------------------------------------------------------------------------------

function ScheduleEditor({ status, saved }: { status: Status; saved: Policy }) {
  const { state, agent } = useAgent();
  const ids = useId();
  const savedKey = canonical(saved);
  const [draft, setDraft] = useState<Policy>(saved);
  const [baseKey, setBaseKey] = useState(savedKey);
  const [changedElsewhere, setChangedElsewhere] = useState(false);
  const [saveError, setSaveError] = useState<{ key: string; error: ActionError } | null>(null);
  const [justSaved, setJustSaved] = useState(false);
  const draftKey = canonical(draft);

  // The saved policy moved under us (our own save, a preset applied from the tray, another window).
  if (savedKey !== baseKey) {
    setBaseKey(savedKey);
    if (draftKey === baseKey || draftKey === savedKey) {
      setDraft(saved);
      setChangedElsewhere(false);
    } else {
      setChangedElsewhere(true);
    }
  }
  const dirty = draftKey !== savedKey;

  const live = state.decision ?? status.decision;
  const liveKey = live ? canonical([live.summary, live.uncheckable, live.resources.map((r) => [r.resource, r.state, r.reasons])]) : '';
  const connected = state.phase === 'connected';
  const preview = usePreview(draft, draftKey, liveKey, connected);

  useEffect(() => {
    if (connected) void agent.loadSignals();
  }, [agent, connected, liveKey]);
  const signals = state.signals;

  const edit = (fn: (p: Policy) => Policy) => {
    setJustSaved(false);
    setDraft((p) => fn(p));
  };

  // Field errors: from the last save of this very draft, else from the agent's check of the draft.
  const fields: FieldError[] = (saveError && saveError.key === draftKey ? saveError.error.fields : undefined) ?? preview.error?.fields ?? [];
  const byControl = useMemo(() => {
    const map = new Map<ControlId, FieldError[]>();
    for (const f of fields) {
      const id = controlForPath(draft, f.path);
      map.set(id, [...(map.get(id) ?? []), f]);
    }
    return map;
  }, [fields, draft]);
  const err = (id: ControlId): ControlErrors | undefined => {
    const list = byControl.get(id);
    return list ? errorsOf(list, `${ids}-err-${id}`) : undefined;
  };
  const described = (id: ControlId) => err(id)?.id;

  const save = async () => {
    const result = await agent.savePolicy(draft);
    if (!result.ok) {
      setSaveError({ key: draftKey, error: result.error });
      return;
    }
    setSaveError(null);
    setChangedElsewhere(false);
    const now = agent.getSnapshot().settings?.policy;
    if (now) {
      setDraft(now);
      setBaseKey(canonical(now));
    }
    setJustSaved(true);
  };
  const discard = () => {
    setDraft(saved);
    setSaveError(null);
    setChangedElsewhere(false);
  };

  const clock = useMinuteClock();
  const zone = draft.timeZone ?? browserTimeZone();
  const { windows, mixed } = getWindows(draft);
  const targets = editableTargets(draft);
  const saving = state.pending === 'policy';
  const saveFailedHere = saveError && saveError.key === draftKey;
  const uncheckableItems = (preview.decision?.uncheckable ?? live?.uncheckable ?? []).filter((u) => draft.rules[u.target]?.some((r) => r.id === u.ruleId));
  // Conditions waiting for a choice keep a rule from running: they go near the top. Otherwise the
  // card (with what this machine can detect) sits lower down.
  const uncheckableFirst = uncheckableItems.length > 0;
  const uncheckable = (
    <UncheckableCard
      draft={draft}
      items={uncheckableItems}
      signals={signals}
      onChoose={(u, choice) => edit((p) => setIfUnavailable(p, u.target, u.ruleId, u.condition, u.signal, choice))}
    />
  );

  return (
    <>
      <PageHeader title="Schedule" subtitle="When Offhours may share this machine — and what stops it." />

      <section className="card schedule-bar" aria-label="Draft">
        <RunNow preview={preview} />
        <div className="schedule-bar-actions">
          <p className="draft-state" role="status">
            {saving ? 'Saving…' : dirty ? 'Unsaved changes' : justSaved ? 'Saved' : 'No unsaved changes'}
          </p>
          <button type="button" className="button button-secondary" disabled={!dirty || saving} onClick={discard}>
            Discard changes
          </button>
          <button type="button" className="button button-primary" disabled={!dirty || !canAct(state)} aria-busy={saving} onClick={() => void save()}>
            {saving && <span className="spinner spinner-inline" aria-hidden="true" />}
            Save schedule
          </button>
        </div>
      </section>

      {saveFailedHere && (
        <div className="banner banner-danger" role="alert" data-testid="save-error">
          <div className="banner-text">
            <p className="banner-title">Not saved: {saveError.error.message}</p>
            <p>{(saveError.error.fields?.length ?? 0) > 0 ? 'They are marked next to their settings below. ' : ''}Nothing was changed; your draft is still here.</p>
          </div>
        </div>
      )}
      {changedElsewhere && (
        <div className="banner banner-warning" role="status" data-testid="changed-elsewhere">
          <p className="banner-text">The saved schedule was changed somewhere else. Saving replaces it with this draft; Discard shows the new one.</p>
        </div>
      )}
      {byControl.has('general') && (
        <div className="banner banner-danger" data-testid="general-errors">
          <ul className="banner-text field-errors">
            {byControl.get('general')!.map((f) => (
              <li key={`${f.path}:${f.message}`}>
                <code>{f.path}</code> {f.message}
              </li>
            ))}
          </ul>
        </div>
      )}

      <div className="page-grid">
        <PresetsCard draft={draft} draftKey={draftKey} onApply={(apply) => edit(apply)} />

        {targets.length === 0 && (
          <div className="banner banner-warning" data-testid="no-rules">
            <p className="banner-text">No rule lets anything be shared, so nothing will run. Pick a preset above to start.</p>
          </div>
        )}

        {uncheckableFirst && uncheckable}

        <section className="card" aria-labelledby={`${ids}-week`}>
          <div className="card-head">
            <div>
              <h2 id={`${ids}-week`} className="card-title">
                Weekly schedule
              </h2>
              <p className="card-sub">Paint the hours when sharing is allowed. Outside them, Offhours pauses.</p>
            </div>
            <TimeZoneField draft={draft} edit={edit} errors={err('time-zone')} browserZone={browserTimeZone()} />
          </div>
          {mixed && (
            <p className="note" data-testid="mixed-windows">
              Your resources have different schedules. Painting here gives them all the same one; the advanced section below shows each.
            </p>
          )}
          <WeekGrid
            windows={windows}
            onChange={(w) => edit((p) => setWindows(p, w))}
            now={nowCell(clock, zone)}
            invalid={byControl.has('schedule-grid')}
            describedBy={described('schedule-grid')}
          />
          <FieldErrorText errors={err('schedule-grid')} />
        </section>

        <ConditionsCard draft={draft} edit={edit} err={err} />

        <GamesCard draft={draft} edit={edit} err={err} suggestions={signals?.processesSeen ?? []} />

        <MachineCard draft={draft} edit={edit} err={err} />

        {!uncheckableFirst && uncheckable}

        <AdvancedCard draft={draft} errors={byControl.get('advanced') ?? []} />
      </div>
    </>
  );
}

// ---- presets ------------------------------------------------------------------------------------

function PresetsCard({ draft, draftKey, onApply }: { draft: Policy; draftKey: string; onApply: (apply: (p: Policy) => Policy) => void }) {
  const ids = useId();
  return (
    <section className="card" aria-labelledby={`${ids}-presets`}>
      <div>
        <h2 id={`${ids}-presets`} className="card-title">
          Start from a preset
        </h2>
        <p className="card-sub">A preset replaces the rules below; your game lists, price and other settings stay. Nothing is saved until you press Save.</p>
      </div>
      <div className="presets">
        {PRESETS.map((preset) => {
          const current = canonical(preset.apply(draft)) === draftKey;
          return (
            <button
              key={preset.id}
              type="button"
              className={`preset${current ? ' is-current' : ''}`}
              aria-label={preset.name}
              aria-describedby={`${ids}-${preset.id}`}
              aria-current={current || undefined}
              data-testid={`preset-${preset.id}`}
              onClick={() => onApply(preset.apply)}
            >
              <span className="preset-name">
                {preset.name}
                {current && <span className="badge">Current</span>}
              </span>
              <span id={`${ids}-${preset.id}`} className="preset-text">
                {preset.description}
              </span>
            </button>
          );
        })}
      </div>
    </section>
  );
}

// ---- time zone ----------------------------------------------------------------------------------

function TimeZoneField({ draft, edit, errors, browserZone }: { draft: Policy; edit: (fn: (p: Policy) => Policy) => void; errors: ControlErrors | undefined; browserZone: string }) {
  const id = useId();
  const zones = useMemo(() => timeZoneOptions(draft.timeZone), [draft.timeZone]);
  return (
    <div className="tz-field">
      <label htmlFor={id} className="field-label">
        Time zone
      </label>
      <select
        id={id}
        className="select"
        value={draft.timeZone ?? ''}
        aria-invalid={errors ? true : undefined}
        aria-describedby={errors?.id}
        onChange={(event) => {
          const value = event.target.value;
          edit((p) => ({ ...p, timeZone: value === '' ? null : value }));
        }}
      >
        <option value="">The computer’s own (this browser: {browserZone})</option>
        {zones.map((z) => (
          <option key={z} value={z}>
            {z}
          </option>
        ))}
      </select>
      <FieldErrorText errors={errors} />
    </div>
  );
}

// ---- conditions ---------------------------------------------------------------------------------

type Edit = (fn: (p: Policy) => Policy) => void;
type Err = (id: ControlId) => ControlErrors | undefined;

function Check({ label, checked, onChange, hint, testId, errors }: { label: ReactNode; checked: boolean; onChange: (v: boolean) => void; hint?: ReactNode; testId?: string; errors?: ControlErrors | undefined }) {
  const id = useId();
  const hintId = useId();
  return (
    <div className="check-field">
      <div className="checkbox-row">
        <input
          id={id}
          type="checkbox"
          className="checkbox"
          checked={checked}
          data-testid={testId}
          aria-describedby={[hint ? hintId : null, errors?.id ?? null].filter(Boolean).join(' ') || undefined}
          aria-invalid={errors ? true : undefined}
          onChange={(e) => onChange(e.target.checked)}
        />
        <label htmlFor={id}>{label}</label>
      </div>
      {hint && (
        <p id={hintId} className="field-hint indent">
          {hint}
        </p>
      )}
      <FieldErrorText errors={errors} className="indent" />
    </div>
  );
}

function ConditionsCard({ draft, edit, err }: { draft: Policy; edit: Edit; err: Err }) {
  const ids = useId();
  const idle = getIdleMinutes(draft);
  const battery = getBattery(draft);
  const cap = getPriceCap(draft);
  const currency = draft.flatPrice?.currency ?? 'EUR';
  const [lastIdle, setLastIdle] = useState(idle ?? 10);
  const [lastPercent, setLastPercent] = useState(battery.kind === 'atLeast' ? battery.percent : 50);
  const [lastCap, setLastCap] = useState(cap ?? '0.30');
  const net = getNetFloor(draft);
  const [lastNet, setLastNet] = useState(net ?? '0');
  const [lastTemp, setLastTemp] = useState<Record<Sensor, number>>({ cpu: getTemperature(draft, 'cpu') ?? 90, gpu: getTemperature(draft, 'gpu') ?? 80 });
  const hasGpuRules = Object.keys(draft.rules).some((t) => t === 'gpu' || t.startsWith('gpu:'));

  return (
    <section className="card" aria-labelledby={`${ids}-cond`}>
      <div>
        <h2 id={`${ids}-cond`} className="card-title">
          Only share when…
        </h2>
        <p className="card-sub">These apply to the main rule of each resource. If any of them is not met, that resource pauses.</p>
      </div>
      <div className="conditions">
        <div className="condition" data-testid="idle-field">
          <h3 className="condition-title">Idle</h3>
          <Check
            label="the computer has been idle for at least"
            checked={idle !== null}
            onChange={(on) => edit((p) => setIdleMinutes(p, on ? lastIdle : null))}
            hint={draft.dedicatedMachine ? 'A dedicated machine always counts as idle.' : 'No keyboard or mouse input, or the screen is locked.'}
          />
          {idle !== null && (
            <NumberField
              label="Idle minutes"
              value={idle}
              min={0}
              max={1440}
              unit="minutes"
              className="indent"
              errors={err('idle')}
              onChange={(n) => {
                setLastIdle(n);
                edit((p) => setIdleMinutes(p, n));
              }}
            />
          )}
          <FieldErrorText errors={err('idle')} className="indent" />
        </div>

        <fieldset className="condition" data-testid="battery-field" aria-describedby={err('battery')?.id}>
          <legend className="condition-title">Battery</legend>
          <label className="radio-row">
            <input type="radio" name={`${ids}-battery`} checked={battery.kind === 'any'} onChange={() => edit((p) => setBattery(p, { kind: 'any' }))} />
            Also on battery
          </label>
          <label className="radio-row">
            <input type="radio" name={`${ids}-battery`} checked={battery.kind === 'never'} onChange={() => edit((p) => setBattery(p, { kind: 'never' }))} />
            Never on battery
          </label>
          <label className="radio-row">
            <input
              type="radio"
              name={`${ids}-battery`}
              checked={battery.kind === 'atLeast'}
              onChange={() => edit((p) => setBattery(p, { kind: 'atLeast', percent: lastPercent }))}
            />
            On battery only while charged to at least
          </label>
          {battery.kind === 'atLeast' && (
            <NumberField
              label="Minimum battery percent"
              value={battery.percent}
              min={1}
              max={100}
              unit="%"
              className="indent"
              errors={err('battery')}
              onChange={(n) => {
                setLastPercent(n);
                edit((p) => setBattery(p, { kind: 'atLeast', percent: n }));
              }}
            />
          )}
          <FieldErrorText errors={err('battery')} className="indent" />
        </fieldset>

        <div className="condition" data-testid="temperature-field">
          <h3 className="condition-title">Temperature</h3>
          {(['cpu', 'gpu'] as const).map((sensor) => {
            const value = getTemperature(draft, sensor);
            const name = sensor === 'cpu' ? 'CPU' : 'GPU';
            const errors = err(sensor === 'cpu' ? 'temp-cpu' : 'temp-gpu');
            return (
              <div key={sensor} className="temp-row">
                <Check
                  label={`the ${name} is below`}
                  checked={value !== null}
                  onChange={(on) => edit((p) => setTemperature(p, sensor, on ? lastTemp[sensor] : null))}
                  hint={sensor === 'gpu' && !hasGpuRules ? 'No rule shares a GPU, so this has no effect.' : undefined}
                />
                {value !== null && (
                  <NumberField
                    label={`${name} temperature limit`}
                    value={value}
                    min={30}
                    max={110}
                    unit="°C"
                    className="indent"
                    errors={errors}
                    onChange={(n) => {
                      setLastTemp((t) => ({ ...t, [sensor]: n }));
                      edit((p) => setTemperature(p, sensor, n));
                    }}
                  />
                )}
                <FieldErrorText errors={errors} className="indent" />
              </div>
            );
          })}
          <p className="field-hint">
            It pauses at the limit, and resumes only {draft.temperatureHysteresisC} °C below it, so it does not flap.
          </p>
        </div>

        <div className="condition" data-testid="price-field">
          <h3 className="condition-title">Electricity price</h3>
          <Check
            label="electricity costs at most"
            checked={cap !== null}
            onChange={(on) => edit((p) => setPriceCap(p, on ? lastCap : null))}
            hint={cap !== null && draft.flatPrice === null ? 'No price is known yet: set your price below, or this can’t be checked.' : undefined}
          />
          {cap !== null && (
            <DecimalField
              label="Price cap per kWh"
              value={cap}
              unit={`${currency} per kWh`}
              errors={err('price-cap')}
              className="indent"
              onChange={(v) => {
                setLastCap(v);
                edit((p) => setPriceCap(p, v));
              }}
            />
          )}
          <FieldErrorText errors={err('price-cap')} className="indent" />
          <FlatPriceField draft={draft} edit={edit} errors={err('flat-price')} />
        </div>

        <div className="condition" data-testid="net-field">
          <h3 className="condition-title">Profit guard</h3>
          <Check
            label="work pays more than its electricity, by at least"
            checked={net !== null}
            onChange={(on) => edit((p) => setNetFloor(p, on ? lastNet : null))}
            hint="Per device: what paid work earned per hour over the last week, against what its power costs at today’s price. Until there is paid work to go on, it lets work run. Your own renders earn nothing and are not counted."
          />
          {net !== null && (
            <DecimalField
              label="Net earnings per hour at least"
              value={net}
              unit={`${currency} per hour`}
              errors={err('net-floor')}
              className="indent"
              onChange={(v) => {
                setLastNet(v);
                edit((p) => setNetFloor(p, v));
              }}
            />
          )}
          <FieldErrorText errors={err('net-floor')} className="indent" />
        </div>
      </div>
    </section>
  );
}

function DecimalField({ label, value, unit, onChange, errors, className = '' }: { label: string; value: string; unit?: string; onChange: (v: string) => void; errors: ControlErrors | undefined; className?: string }) {
  const id = useId();
  return (
    <span className={`number-field ${className}`}>
      <label htmlFor={id} className="visually-hidden">
        {label}
      </label>
      <input
        id={id}
        type="text"
        inputMode="decimal"
        className="input input-number input-decimal"
        value={value}
        spellCheck={false}
        aria-invalid={errors ? true : undefined}
        aria-describedby={errors?.id}
        onChange={(e) => onChange(e.target.value.trim().replace(',', '.'))}
      />
      {unit && <span className="unit">{unit}</span>}
    </span>
  );
}

function FlatPriceField({ draft, edit, errors }: { draft: Policy; edit: Edit; errors: ControlErrors | undefined }) {
  const currencyId = useId();
  const price = draft.flatPrice;
  return (
    <div className="flat-price">
      <Check
        label="I pay a flat price for electricity"
        checked={price !== null}
        onChange={(on) => edit((p) => ({ ...p, flatPrice: on ? { currency: 'EUR', perKwh: '0.30' } : null }))}
        hint="Used for the price cap and what sharing costs you while no tariff is active on the Power page (time-of-use bands and price tables are set there)."
      />
      {price !== null && (
        <div className="indent flat-price-row">
          <span className="number-field">
            <label htmlFor={currencyId} className="visually-hidden">
              Currency
            </label>
            <input
              id={currencyId}
              className="input input-currency"
              value={price.currency}
              maxLength={3}
              spellCheck={false}
              aria-invalid={errors ? true : undefined}
              aria-describedby={errors?.id}
              onChange={(e) => {
                const currency = e.target.value.toUpperCase();
                edit((p) => ({ ...p, flatPrice: p.flatPrice && { ...p.flatPrice, currency } }));
              }}
            />
          </span>
          <DecimalField
            label="Flat price per kWh"
            value={price.perKwh}
            unit="per kWh"
            errors={errors}
            onChange={(perKwh) => edit((p) => ({ ...p, flatPrice: p.flatPrice && { ...p.flatPrice, perKwh } }))}
          />
        </div>
      )}
      <FieldErrorText errors={errors} className="indent" />
    </div>
  );
}

// ---- games ----------------------------------------------------------------------------------------

function GamesCard({ draft, edit, err, suggestions }: { draft: Policy; edit: Edit; err: Err; suggestions: readonly string[] }) {
  const ids = useId();
  return (
    <section className="card" aria-labelledby={`${ids}-games`}>
      <div>
        <h2 id={`${ids}-games`} className="card-title">
          Games
        </h2>
        <p className="card-sub">
          Offhours recognises games started by Steam, Epic, Battle.net, the EA app, Riot, Ubisoft Connect and GOG Galaxy — the games, not the
          launchers, so a launcher open all day does not stop sharing.
        </p>
      </div>
      <Check
        label="Pause while a game or a full-screen app runs"
        checked={getPauseForGames(draft)}
        onChange={(on) => edit((p) => setPauseForGames(p, on))}
        errors={err('no-game')}
        testId="pause-for-games"
      />
      <div className="two-col">
        <NameList
          title="Also count as games"
          description="Programs to treat as games even though no launcher started them."
          noun="game"
          names={draft.games.extra}
          suggestions={suggestions}
          errors={err('games-extra')}
          testId="games-extra"
          onChange={(extra) => edit((p) => ({ ...p, games: { ...p.games, extra } }))}
        />
        <NameList
          title="Not games"
          description="Launcher children that are not games (an overlay, an updater, a chat app): they never pause sharing."
          noun="program"
          names={draft.games.ignore}
          suggestions={suggestions}
          errors={err('games-ignore')}
          testId="games-ignore"
          onChange={(ignore) => edit((p) => ({ ...p, games: { ...p.games, ignore } }))}
        />
      </div>
    </section>
  );
}

// ---- this machine -------------------------------------------------------------------------------

function MachineCard({ draft, edit, err }: { draft: Policy; edit: Edit; err: Err }) {
  const ids = useId();
  const row = (label: string, hint: string, control: ReactNode, errors: ControlErrors | undefined, testId: string) => (
    <div className="setting-row" data-testid={testId}>
      <div>
        <p className="field-label">{label}</p>
        <p className="field-hint">{hint}</p>
        <FieldErrorText errors={errors} />
      </div>
      {control}
    </div>
  );
  return (
    <section className="card" aria-labelledby={`${ids}-machine`}>
      <h2 id={`${ids}-machine`} className="card-title">
        This machine
      </h2>
      <Check
        label="Dedicated machine"
        checked={draft.dedicatedMachine}
        onChange={(on) => edit((p) => ({ ...p, dedicatedMachine: on }))}
        hint="Nobody uses this computer (a headless box): it always counts as idle."
        errors={err('dedicated')}
        testId="dedicated-machine"
      />
      <Check
        label="Keep the computer awake while sharing"
        checked={draft.keepAwake}
        onChange={(on) => edit((p) => ({ ...p, keepAwake: on }))}
        hint="Otherwise the system’s sleep timer ends idle-time sharing after 15–30 minutes. The computer sleeps normally when nothing is shared."
        errors={err('keep-awake')}
        testId="keep-awake"
      />
      <div className="setting-rows">
        {row(
          'Quiet period',
          'After anything stops sharing, wait this long with everything allowed before starting again, so a glance at the screen does not restart work.',
          <NumberField label="Quiet period in minutes" value={draft.quietPeriodMinutes} min={0} max={240} unit="min" errors={err('quiet')} onChange={(n) => edit((p) => ({ ...p, quietPeriodMinutes: n }))} />,
          err('quiet'),
          'quiet-period',
        )}
        {row(
          'Temperature margin',
          'After pausing for heat, resume only this far below the limit.',
          <NumberField label="Temperature margin in °C" value={draft.temperatureHysteresisC} min={0} max={30} unit="°C" errors={err('hysteresis')} onChange={(n) => edit((p) => ({ ...p, temperatureHysteresisC: n }))} />,
          err('hysteresis'),
          'hysteresis',
        )}
        {row(
          'Free memory after',
          'A pause longer than this stops the work and frees GPU memory; a game always does at once.',
          <NumberField label="Free memory after minutes" value={draft.releaseAfterMinutes} min={0} max={240} unit="min" errors={err('release')} onChange={(n) => edit((p) => ({ ...p, releaseAfterMinutes: n }))} />,
          err('release'),
          'release-after',
        )}
      </div>
    </section>
  );
}

// ---- what this machine can't check ----------------------------------------------------------------

function UncheckableCard({
  draft,
  items,
  signals,
  onChoose,
}: {
  draft: Policy;
  items: readonly UncheckableCondition[];
  signals: SignalsView | undefined;
  onChoose: (u: UncheckableCondition, choice: 'ignore' | 'block') => void;
}) {
  const ids = useId();
  const missing = (signals?.detectors ?? []).filter((d) => !d.available);
  const inRules = items.filter((u) => draft.rules[u.target]?.some((r) => r.id === u.ruleId));
  const undecided = inRules.filter((u) => ifUnavailableOf(draft, u.target, u.ruleId, u.condition, u.signal) === 'ask').length;
  return (
    <section className={`card${undecided > 0 ? ' attention-card' : ''}`} aria-labelledby={`${ids}-unc`} data-testid="uncheckable">
      <div>
        <h2 id={`${ids}-unc`} className="card-title">
          Conditions this machine can’t check
          {undecided > 0 && <span className="badge badge-warning">{undecided} to decide</span>}
        </h2>
        <p className="card-sub">
          When a rule needs something this computer cannot tell, Offhours neither guesses nor waits forever: you choose.
        </p>
      </div>
      {inRules.length === 0 ? (
        <p className="ok-line" data-testid="uncheckable-none">
          <span className="ok-mark" aria-hidden="true">
            ✓
          </span>
          Everything your rules use can be checked here.
        </p>
      ) : (
        <ul className="uncheckable-list">
          {inRules.map((u) => {
            const rule = draft.rules[u.target]?.find((r) => r.id === u.ruleId);
            const condition = rule?.conditions.find((c) => c.kind === u.condition);
            const choice = ifUnavailableOf(draft, u.target, u.ruleId, u.condition, u.signal);
            const name = `${ids}-${u.target}-${u.ruleId}-${u.condition}-${u.signal}`;
            return (
              <li key={name} className="uncheckable-item" data-testid="uncheckable-item">
                <div>
                  <p className="uncheckable-title">{signalWords(u.signal)} can’t be checked on this machine.</p>
                  {u.note && <p className="uncheckable-note">{u.note.charAt(0).toUpperCase() + u.note.slice(1)}.</p>}
                  <p className="field-hint">
                    Rule “{rule?.name ?? u.ruleId}” for {targetLabel(u.target)}
                    {condition ? `: ${conditionWords({ ...condition, ifUnavailable: undefined } as typeof condition, draft)}` : ''}.{' '}
                    {choice === 'ask' ? <strong className="warning-text">This rule waits until you choose.</strong> : null}
                  </p>
                </div>
                <div className="segmented" role="radiogroup" aria-label={`If the ${signalWords(u.signal).toLowerCase()} can’t be checked`}>
                  <label className={choice === 'ignore' ? 'is-checked' : ''}>
                    <input type="radio" name={name} checked={choice === 'ignore'} onChange={() => onChoose(u, 'ignore')} />
                    Drop this condition
                  </label>
                  <label className={choice === 'block' ? 'is-checked' : ''}>
                    <input type="radio" name={name} checked={choice === 'block'} onChange={() => onChoose(u, 'block')} />
                    Never run under this rule
                  </label>
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {signals && signals.detectors.length > 0 && (
        <details className="detectors">
          <summary>
            What this machine can detect{missing.length > 0 ? ` (${missing.length} not available)` : ''}
          </summary>
          <ul className="detector-list" data-testid="detectors">
            {signals.detectors.map((d) => (
              <li key={d.signal} className={d.available ? 'is-available' : 'is-missing'}>
                <span className="detector-mark" aria-hidden="true">
                  {d.available ? '✓' : '—'}
                </span>
                <span>
                  <strong>{SIGNAL_WORDS[d.signal]}</strong> {d.available ? '' : '(not available) '}— {d.how}
                </span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

// ---- everything, in words -------------------------------------------------------------------------

function AdvancedCard({ draft, errors }: { draft: Policy; errors: FieldError[] }) {
  const ids = useId();
  const targets = targetsOf(draft);
  return (
    <section className="card" aria-labelledby={`${ids}-adv`}>
      <details className="advanced" open={errors.length > 0 || undefined}>
        <summary>
          <h2 id={`${ids}-adv`} className="card-title inline">
            All rules (advanced)
          </h2>
          <span className="card-sub"> — every rule per resource, in the order they are tried.</span>
        </summary>
        {errors.length > 0 && (
          <ul className="field-errors field-error" data-testid="advanced-errors">
            {errors.map((f) => (
              <li key={`${f.path}:${f.message}`}>
                <code>{f.path}</code> {f.message}
              </li>
            ))}
          </ul>
        )}
        <p className="field-hint">
          For each resource the first enabled rule whose conditions all hold decides; if none does, it pauses. The settings above edit the main
          rule (marked).
        </p>
        {targets.length === 0 ? (
          <p className="muted">No rules.</p>
        ) : (
          <div className="rule-targets" data-testid="advanced-rules">
            {targets.map((target) => {
              const list = draft.rules[target] ?? [];
              const main = mainRuleIndex(list);
              return (
                <div key={target} className="rule-target">
                  <h3 className="condition-title">{targetLabel(target)}</h3>
                  {list.length === 0 ? (
                    <p className="muted">No rules: never shared.</p>
                  ) : (
                    <ol className="rule-list">
                      {list.map((rule, i) => (
                        <li key={rule.id} className={rule.enabled ? '' : 'is-disabled'}>
                          <p>
                            <strong>{rule.name}</strong> {i === main && <span className="badge">main</span>} {!rule.enabled && <span className="badge">off</span>}{' '}
                            <span className="muted">— {actionWords(rule.action)}</span>
                          </p>
                          <p className="rule-when">
                            {rule.conditions.length === 0 ? 'Always.' : `When ${rule.conditions.map((c) => conditionWords(c, draft)).join(', and ')}.`}
                          </p>
                        </li>
                      ))}
                    </ol>
                  )}
                </div>
              );
            })}
          </div>
        )}
        <p className="field-hint">
          Schedule times are in {draft.timeZone ?? 'the time zone of the computer running Offhours'}.
          {draft.flatPrice ? ` Flat price: ${draft.flatPrice.perKwh} ${draft.flatPrice.currency} per kWh.` : ' No electricity price set.'}
        </p>
      </details>
    </section>
  );
}

/** For the Overview: a link to this page. */
export const SCHEDULE_HREF = routeHref('schedule');
