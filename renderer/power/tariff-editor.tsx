// The tariffs: which one is in force, and each one's prices (flat, time-of-use bands over seasons,
// or a dynamic price table). The whole set is one draft saved in one PUT, so a half-edited
// tariff never prices a job. Errors from the check here or from the agent sit next to their field.
import { useEffect, useId, useState } from 'react';
import {
  DAYS,
  type Band,
  type Day,
  type FieldError,
  type Season,
  type Solar,
  type SolarWindow,
  type Tariff,
  type TariffPlan,
  type TariffSettings,
} from '../../protocol/index.js';
import type { ActionError } from '../agent-connection.js';
import { DAY_SHORT } from '../schedule/words.js';
import { canAct, useAgent } from '../use-agent.js';
import { BandGrid, bandName } from './band-grid.js';
import { daysChoice, errorsAt, newBand, newPlan, newSeason, newTariff, PLAN_LABEL, unplacedErrors, type DaysChoice, type PlanKind } from './tariff-draft.js';
import { TariffCsvImport } from './tariff-csv-import.js';
import { TextField } from './text-field.js';
import { normalizeDecimal } from './words.js';

type Edit<T> = (fn: (value: T) => T) => void;

export function TariffEditor({ onSaved }: { onSaved: () => void }) {
  const { state, agent } = useAgent();
  const ids = useId();
  const [saved, setSaved] = useState<TariffSettings | null>(null);
  const [draft, setDraft] = useState<TariffSettings | null>(null);
  const [selected, setSelected] = useState(0);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<ActionError | null>(null);
  const [justSaved, setJustSaved] = useState(false);

  useEffect(() => {
    let live = true;
    void agent.loadTariffs().then((r) => {
      if (!live) return;
      if (r.ok) {
        setSaved(r.value);
        setDraft(r.value);
        setLoadError(null);
      } else setLoadError(r.error.message);
    });
    return () => {
      live = false;
    };
  }, [agent]);

  if (!draft || !saved) {
    return (
      <section className="card" aria-labelledby={`${ids}-title`} data-testid="tariff-editor">
        <h2 id={`${ids}-title`} className="card-title">
          Tariffs
        </h2>
        {loadError ? (
          <p className="field-error" role="alert">
            Could not load the tariffs: {loadError}
          </p>
        ) : (
          <p className="muted">Loading…</p>
        )}
      </section>
    );
  }

  const dirty = JSON.stringify(draft) !== JSON.stringify(saved);
  const fields = saveError?.fields ?? [];
  const edit = (fn: (s: TariffSettings) => TariffSettings) => {
    setJustSaved(false);
    setDraft((d) => (d ? fn(d) : d));
  };
  const editTariff =
    (index: number): Edit<Tariff> =>
    (fn) =>
      edit((s) => ({ ...s, tariffs: s.tariffs.map((t, i) => (i === index ? fn(t) : t)) }));

  const add = (kind: PlanKind) => {
    const tariff = newTariff(kind, draft.tariffs.map((t) => t.id), draft.tariffs[0]?.currency);
    edit((s) => ({ active: s.active ?? tariff.id, tariffs: [...s.tariffs, tariff] }));
    setSelected(draft.tariffs.length);
  };
  const remove = (index: number) => {
    const id = draft.tariffs[index]!.id;
    edit((s) => ({ active: s.active === id ? null : s.active, tariffs: s.tariffs.filter((_, i) => i !== index) }));
    setSelected(0);
    setSaveError(null);
  };
  const save = async () => {
    const result = await agent.saveTariffs(draft);
    if (!result.ok) {
      setSaveError(result.error);
      return;
    }
    setSaveError(null);
    setSaved(result.value);
    setDraft(result.value);
    setJustSaved(true);
    onSaved();
  };

  const current = draft.tariffs[selected];
  const unplaced = unplacedErrors(fields);
  const saving = state.pending === 'tariffs';
  return (
    <section className="card" aria-labelledby={`${ids}-title`} data-testid="tariff-editor">
      <div className="card-head">
        <div>
          <h2 id={`${ids}-title`} className="card-title">
            Tariffs
          </h2>
          <p className="card-sub">What a kWh costs, and when. The active tariff prices every job and the profit check.</p>
        </div>
        <div className="actions">
          <span className="draft-state" role="status">
            {saving ? 'Saving…' : dirty ? 'Unsaved changes' : justSaved ? 'Saved' : 'No unsaved changes'}
          </span>
          <button
            type="button"
            className="button button-secondary"
            disabled={!dirty || saving}
            onClick={() => {
              setDraft(saved);
              setSaveError(null);
              setSelected(0);
            }}
          >
            Discard changes
          </button>
          <button type="button" className="button button-primary" disabled={!dirty || !canAct(state)} aria-busy={saving} onClick={() => void save()}>
            Save tariffs
          </button>
        </div>
      </div>

      {saveError && (
        <div className="banner banner-danger" role="alert" data-testid="tariff-save-error">
          <div className="banner-text">
            <p className="banner-title">Not saved: {saveError.message}</p>
            {fields.length > 0 && <p>The mistakes are marked next to their fields.</p>}
            {unplaced.length > 0 && (
              <ul className="field-errors">
                {unplaced.map((f) => (
                  <li key={`${f.path}:${f.message}`}>
                    <code>{f.path}</code> {f.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        </div>
      )}

      <div className="form-field">
        <label htmlFor={`${ids}-active`}>Active tariff</label>
        <select id={`${ids}-active`} className="select" value={draft.active ?? ''} onChange={(e) => edit((s) => ({ ...s, active: e.target.value === '' ? null : e.target.value }))}>
          <option value="">None (use the flat price from Schedule)</option>
          {draft.tariffs.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
        <FieldErrors errors={errorsAt(fields, 'active')} />
      </div>

      {draft.tariffs.length === 0 ? (
        <p className="muted">No tariffs yet. Add the one on your electricity bill.</p>
      ) : (
        <table className="table" data-testid="tariff-list">
          <thead>
            <tr>
              <th scope="col">Tariff</th>
              <th scope="col">Kind</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {draft.tariffs.map((t, i) => (
              <tr key={i} aria-current={i === selected || undefined}>
                <td>
                  {t.name} {draft.active === t.id && <span className="badge">active</span>}
                </td>
                <td>{PLAN_LABEL[t.plan.kind]}</td>
                <td className="actions">
                  <button type="button" className="button button-small button-secondary" disabled={i === selected} onClick={() => setSelected(i)}>
                    Edit {t.name}
                  </button>
                  <button type="button" className="button button-small button-ghost" onClick={() => remove(i)}>
                    Remove {t.name}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="actions">
        {(['flat', 'timeOfUse', 'dynamic'] as const).map((kind) => (
          <button key={kind} type="button" className="button button-small button-secondary" onClick={() => add(kind)}>
            Add {PLAN_LABEL[kind].toLowerCase()} tariff
          </button>
        ))}
      </div>

      {current && <TariffForm key={selected} tariff={current} path={`tariffs.${selected}`} fields={fields} edit={editTariff(selected)} />}
    </section>
  );
}

function FieldErrors({ errors }: { errors: readonly FieldError[] }) {
  if (errors.length === 0) return null;
  return (
    <p className="field-error" data-testid="field-error">
      {[...new Set(errors.map((e) => e.message))].join(' · ')}
    </p>
  );
}

function TariffForm({ tariff, path, fields, edit }: { tariff: Tariff; path: string; fields: readonly FieldError[]; edit: Edit<Tariff> }) {
  const ids = useId();
  const at = (p: string, under = false) => errorsAt(fields, `${path}.${p}`, under);
  const editPlan: Edit<TariffPlan> = (fn) => edit((t) => ({ ...t, plan: fn(t.plan) }));
  return (
    <fieldset className="tariff-form" aria-labelledby={`${ids}-legend`} data-testid="tariff-form">
      <legend id={`${ids}-legend`} className="card-subtitle">
        {tariff.name}
      </legend>
      <div className="queue-form">
        <TextField label="Tariff name" value={tariff.name} onChange={(name) => edit((t) => ({ ...t, name }))} errors={at('name')} maxLength={80} />
        <TextField label="Currency" value={tariff.currency} onChange={(c) => edit((t) => ({ ...t, currency: c.toUpperCase() }))} errors={at('currency')} maxLength={3} />
        <TextField
          label="Time zone"
          value={tariff.timeZone ?? ''}
          placeholder="This computer’s zone"
          hint="The zone the supplier’s times are in, e.g. Europe/London. Empty: this computer’s."
          onChange={(z) => edit((t) => ({ ...t, timeZone: z.trim() === '' ? null : z.trim() }))}
          errors={at('timeZone')}
        />
        <div className="form-field">
          <label htmlFor={`${ids}-kind`}>Kind of tariff</label>
          <select
            id={`${ids}-kind`}
            className="select"
            value={tariff.plan.kind}
            onChange={(e) => {
              const kind = e.target.value as PlanKind;
              editPlan(() => newPlan(kind));
            }}
          >
            {(Object.keys(PLAN_LABEL) as PlanKind[]).map((k) => (
              <option key={k} value={k}>
                {PLAN_LABEL[k]}
              </option>
            ))}
          </select>
        </div>
      </div>
      <FieldErrors errors={at('id')} />

      {tariff.plan.kind === 'flat' && (
        <TextField
          label="Price per kWh"
          inputMode="decimal"
          unit={tariff.currency}
          value={tariff.plan.perKwh}
          onChange={(v) => editPlan((p) => (p.kind === 'flat' ? { ...p, perKwh: normalizeDecimal(v) } : p))}
          errors={at('plan.perKwh')}
        />
      )}

      {tariff.plan.kind === 'timeOfUse' && (
        <>
          <FieldErrors errors={at('plan.seasons')} />
          {tariff.plan.seasons.map((season, j) => (
            <SeasonForm
              key={j}
              index={j}
              season={season}
              currency={tariff.currency}
              path={`${path}.plan.seasons.${j}`}
              fields={fields}
              canRemove={tariff.plan.kind === 'timeOfUse' && tariff.plan.seasons.length > 1}
              edit={(fn) => editPlan((p) => (p.kind === 'timeOfUse' ? { ...p, seasons: p.seasons.map((s, k) => (k === j ? fn(s) : s)) } : p))}
              remove={() => editPlan((p) => (p.kind === 'timeOfUse' ? { ...p, seasons: p.seasons.filter((_, k) => k !== j) } : p))}
            />
          ))}
          <button
            type="button"
            className="button button-small button-secondary"
            onClick={() => editPlan((p) => (p.kind === 'timeOfUse' ? { ...p, seasons: [...p.seasons, newSeason(`Season ${p.seasons.length + 1}`)] } : p))}
          >
            Add season
          </button>
        </>
      )}

      {tariff.plan.kind === 'dynamic' && (
        <>
          <TextField
            label="Fallback price per kWh"
            inputMode="decimal"
            unit={tariff.currency}
            hint="Applies before the first price in the table, after the last, and in any gap."
            value={tariff.plan.fallbackPerKwh}
            onChange={(v) => editPlan((p) => (p.kind === 'dynamic' ? { ...p, fallbackPerKwh: normalizeDecimal(v) } : p))}
            errors={at('plan.fallbackPerKwh')}
          />
          <p data-testid="slot-count">{tariff.plan.slots.length === 0 ? 'No prices in the table yet.' : `${tariff.plan.slots.length} prices in the table.`}</p>
          <FieldErrors errors={at('plan.slots', true)} />
          <TariffCsvImport currency={tariff.currency} onUse={(slots) => editPlan((p) => (p.kind === 'dynamic' ? { ...p, slots } : p))} />
        </>
      )}

      <SolarForm solar={tariff.solar} currency={tariff.currency} path={`${path}.solar`} fields={fields} onChange={(solar) => edit((t) => withSolar(t, solar))} />
    </fieldset>
  );
}

function withSolar(t: Tariff, solar: Solar | undefined): Tariff {
  const { solar: _old, ...rest } = t;
  return solar ? { ...rest, solar } : rest;
}

function SeasonForm(props: { index: number; season: Season; currency: string; path: string; fields: readonly FieldError[]; canRemove: boolean; edit: Edit<Season>; remove: () => void }) {
  const { index, season, currency, path, fields, canRemove, edit, remove } = props;
  const at = (p: string, under = false) => errorsAt(fields, p === '' ? path : `${path}.${p}`, under);
  const title = `Season ${index + 1}: ${season.name}`;
  const editBand = (k: number): Edit<Band> => (fn) => edit((s) => ({ ...s, bands: s.bands.map((b, i) => (i === k ? fn(b) : b)) }));
  return (
    <fieldset className="season-form" aria-label={title} data-testid="season-form">
      <legend className="card-subtitle">{title}</legend>
      <FieldErrors errors={at('')} />
      <div className="queue-form">
        <TextField label="Season name" value={season.name} onChange={(name) => edit((s) => ({ ...s, name }))} errors={at('name')} maxLength={80} />
        <TextField label="From (MM-DD)" value={season.from} placeholder="01-01" onChange={(from) => edit((s) => ({ ...s, from }))} errors={at('from')} maxLength={5} />
        <TextField label="To (MM-DD)" value={season.to} placeholder="12-31" onChange={(to) => edit((s) => ({ ...s, to }))} errors={at('to')} maxLength={5} />
        <TextField
          label="Default price per kWh"
          inputMode="decimal"
          unit={currency}
          hint="For every hour no band covers."
          value={season.defaultPerKwh}
          onChange={(v) => edit((s) => ({ ...s, defaultPerKwh: normalizeDecimal(v) }))}
          errors={at('defaultPerKwh')}
        />
      </div>
      {season.bands.length > 0 && (
        <table className="table band-table">
          <thead>
            <tr>
              <th scope="col">Band</th>
              <th scope="col">Days</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
              <th scope="col">Per kWh</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {season.bands.map((band, k) => (
              <BandRow key={k} index={k} band={band} currency={currency} path={`${path}.bands.${k}`} fields={fields} edit={editBand(k)} remove={() => edit((s) => ({ ...s, bands: s.bands.filter((_, i) => i !== k) }))} />
            ))}
          </tbody>
        </table>
      )}
      <div className="actions">
        <button type="button" className="button button-small button-secondary" disabled={season.bands.length >= 48} onClick={() => edit((s) => ({ ...s, bands: [...s.bands, { ...newBand(), name: `Band ${s.bands.length + 1}` }] }))}>
          Add band
        </button>
        {canRemove && (
          <button type="button" className="button button-small button-ghost" onClick={remove}>
            Remove season
          </button>
        )}
      </div>
      <BandGrid bands={season.bands} defaultPerKwh={season.defaultPerKwh} currency={currency} label={`Prices of ${season.name} by hour of the week`} />
    </fieldset>
  );
}

function BandRow({ index, band, currency, path, fields, edit, remove }: { index: number; band: Band; currency: string; path: string; fields: readonly FieldError[]; edit: Edit<Band>; remove: () => void }) {
  const ids = useId();
  const n = `Band ${index + 1}`;
  const at = (p: string) => errorsAt(fields, `${path}.${p}`);
  const choice = daysChoice(band.days);
  const setChoice = (c: DaysChoice) => edit((b) => ({ ...b, days: c === 'custom' ? (Array.isArray(b.days) ? b.days : ['mon']) : c }));
  const toggleDay = (day: Day, on: boolean) =>
    edit((b) => {
      const days = Array.isArray(b.days) ? b.days : [];
      const next = on ? DAYS.filter((d) => d === day || days.includes(d)) : days.filter((d) => d !== day);
      return { ...b, days: next.length > 0 ? next : days };
    });
  return (
    <>
      <tr data-testid="band-row">
        <td>
          <TextField hideLabel label={`${n} name`} value={band.name ?? ''} onChange={(name) => edit((b) => (name === '' ? withoutName(b) : { ...b, name }))} errors={at('name')} maxLength={80} />
        </td>
        <td>
          <label htmlFor={`${ids}-days`} className="visually-hidden">
            {n} days
          </label>
          <select id={`${ids}-days`} className="select" value={choice} onChange={(e) => setChoice(e.target.value as DaysChoice)}>
            <option value="all">Every day</option>
            <option value="weekdays">Weekdays</option>
            <option value="weekend">Weekend</option>
            <option value="custom">Some days</option>
          </select>
          {Array.isArray(band.days) && (
            <div className="checkbox-row" role="group" aria-label={`${n} days of the week`}>
              {DAYS.map((day) => (
                <label key={day}>
                  <input type="checkbox" className="checkbox" checked={(band.days as readonly Day[]).includes(day)} onChange={(e) => toggleDay(day, e.target.checked)} /> {DAY_SHORT[day]}
                </label>
              ))}
            </div>
          )}
          <FieldErrors errors={at('days')} />
        </td>
        <td>
          <TextField hideLabel label={`${n} from`} value={band.from} placeholder="HH:MM" onChange={(from) => edit((b) => ({ ...b, from }))} errors={at('from')} maxLength={5} />
        </td>
        <td>
          <TextField hideLabel label={`${n} to`} value={band.to} placeholder="HH:MM" onChange={(to) => edit((b) => ({ ...b, to }))} errors={at('to')} maxLength={5} />
        </td>
        <td>
          <TextField hideLabel label={`${n} price per kWh`} inputMode="decimal" unit={currency} value={band.perKwh} onChange={(v) => edit((b) => ({ ...b, perKwh: normalizeDecimal(v) }))} errors={at('perKwh')} />
        </td>
        <td>
          <button type="button" className="button button-small button-ghost" onClick={remove} aria-label={`Remove ${bandName(band, index)}`}>
            Remove
          </button>
        </td>
      </tr>
      {errorsAt(fields, path).length > 0 && (
        <tr>
          <td colSpan={6}>
            <FieldErrors errors={errorsAt(fields, path)} />
          </td>
        </tr>
      )}
    </>
  );
}

function withoutName(b: Band): Band {
  const { name: _name, ...rest } = b;
  return rest;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function SolarForm({ solar, currency, path, fields, onChange }: { solar: Solar | undefined; currency: string; path: string; fields: readonly FieldError[]; onChange: (solar: Solar | undefined) => void }) {
  const ids = useId();
  const at = (p: string, under = false) => errorsAt(fields, p === '' ? path : `${path}.${p}`, under);
  const editWindow = (i: number, fn: (w: SolarWindow) => SolarWindow) => solar && onChange({ ...solar, windows: solar.windows.map((w, k) => (k === i ? fn(w) : w)) });
  return (
    <div className="solar-form" data-testid="solar-form">
      <div className="checkbox-row">
        <input
          id={`${ids}-on`}
          type="checkbox"
          className="checkbox"
          checked={solar !== undefined}
          onChange={(e) => onChange(e.target.checked ? { windows: [{ from: '10:00', to: '16:00' }], perKwh: '0' } : undefined)}
        />
        <label htmlFor={`${ids}-on`}>Own generation (solar): some hours cost less</label>
      </div>
      {solar && (
        <div className="indent">
          <TextField
            label="Price per kWh inside the windows"
            inputMode="decimal"
            unit={currency}
            hint="0, or the export price a kWh used here no longer earns."
            value={solar.perKwh}
            onChange={(v) => onChange({ ...solar, perKwh: normalizeDecimal(v) })}
            errors={at('perKwh')}
          />
          <FieldErrors errors={[...at(''), ...at('windows')]} />
          {solar.windows.map((w, i) => (
            <div key={i} className="queue-form" role="group" aria-label={`Solar window ${i + 1}`}>
              <TextField label={`Window ${i + 1} from`} value={w.from} placeholder="HH:MM" maxLength={5} onChange={(from) => editWindow(i, (x) => ({ ...x, from }))} errors={at(`windows.${i}.from`)} />
              <TextField label={`Window ${i + 1} to`} value={w.to} placeholder="HH:MM" maxLength={5} onChange={(to) => editWindow(i, (x) => ({ ...x, to }))} errors={at(`windows.${i}.to`)} />
              <MonthsField index={i} months={w.months} onChange={(text) => editWindow(i, (x) => withMonths(x, text))} errors={[...at(`windows.${i}.months`, true), ...at(`windows.${i}`)]} />
              {solar.windows.length > 1 && (
                <button type="button" className="button button-small button-ghost" onClick={() => onChange({ ...solar, windows: solar.windows.filter((_, k) => k !== i) })}>
                  Remove window {i + 1}
                </button>
              )}
            </div>
          ))}
          <button type="button" className="button button-small button-secondary" disabled={solar.windows.length >= 24} onClick={() => onChange({ ...solar, windows: [...solar.windows, { from: '10:00', to: '16:00' }] })}>
            Add window
          </button>
        </div>
      )}
    </div>
  );
}

/** Keeps what is typed ("4, ") while the draft holds the numbers read so far. */
function MonthsField({ index, months, onChange, errors }: { index: number; months: number[] | undefined; onChange: (text: string) => void; errors: FieldError[] }) {
  const [text, setText] = useState(months?.join(', ') ?? '');
  return (
    <TextField
      label={`Window ${index + 1} months`}
      placeholder="Every month"
      hint={`Numbers 1–12 (${MONTHS[3]} = 4), separated by commas.`}
      value={text}
      onChange={(t) => {
        setText(t);
        onChange(t);
      }}
      errors={errors}
    />
  );
}

/** "4, 5, 6" -> [4, 5, 6]; empty -> every month. Text that is no month number is kept as NaN for the check to name. */
function withMonths(w: SolarWindow, text: string): SolarWindow {
  const { months: _m, ...rest } = w;
  const parts = text.split(/[\s,;]+/).filter((p) => p !== '');
  return parts.length === 0 ? rest : { ...rest, months: parts.map(Number) };
}
