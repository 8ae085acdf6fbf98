// The weekly grid: 7 days × 24 hours, painted with the mouse (press, drag across cells) or the
// keyboard (arrow keys move, Space toggles, Shift+arrow carries the current cell's value along).
// It works on whole hours; windows that start or end off the hour show as "partly allowed" and
// are rounded out to whole hours only when the user paints.
import { useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { DAYS, type Day, type TimeWindow } from '../../protocol/index.js';
import { allCells, canonical, cellKey, cellsFromWindows, HOURS, windowsFromCells } from './policy-draft.js';
import { DAY_NAME, DAY_SHORT, windowWords } from './words.js';

const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

export function cellName(day: Day, hour: number, allowed: boolean, partial: boolean): string {
  const state = partial ? 'partly allowed' : allowed ? 'allowed' : 'not allowed';
  return `${DAY_NAME[day]} ${hh(hour)}–${hh(hour + 1)}, ${state}`;
}

export interface WeekGridProps {
  windows: TimeWindow[] | null;
  onChange: (windows: TimeWindow[] | null) => void;
  /** The cell "now" falls in, in the schedule's zone; null when unknown. */
  now: { day: Day; hour: number } | null;
  disabled?: boolean;
  invalid?: boolean;
  describedBy?: string | undefined;
}

interface Active {
  day: Day;
  hour: number;
}

export function WeekGrid({ windows, onChange, now, disabled = false, invalid = false, describedBy }: WeekGridProps) {
  const windowsKey = canonical(windows);
  const [cells, setCells] = useState(() => cellsFromWindows(windows));
  // Pointer events during a fast drag can arrive before React renders the last paint: read and
  // write the latest cells here, not from the render's closure.
  const latest = useRef(cells);
  // The windows these cells stand for. When the draft's windows change from outside (a preset,
  // Discard, a save from elsewhere) the cells follow; an empty grid stays empty while painting
  // (it means "no time condition", which would otherwise show as a full grid).
  const [syncedKey, setSyncedKey] = useState(windowsKey);
  if (windowsKey !== syncedKey) {
    const synced = cellsFromWindows(windows);
    setSyncedKey(windowsKey);
    setCells(synced);
    latest.current = synced;
  }

  const [active, setActive] = useState<Active>(() => now ?? { day: 'mon', hour: 0 });
  const focusNext = useRef(false);
  const cellRefs = useRef(new Map<string, HTMLDivElement>());
  const paintValue = useRef<boolean | null>(null);

  useEffect(() => {
    if (!focusNext.current) return;
    focusNext.current = false;
    cellRefs.current.get(cellKey(active.day, active.hour))?.focus();
  }, [active]);

  useEffect(() => {
    const stop = () => {
      paintValue.current = null;
    };
    window.addEventListener('pointerup', stop);
    window.addEventListener('pointercancel', stop);
    return () => {
      window.removeEventListener('pointerup', stop);
      window.removeEventListener('pointercancel', stop);
    };
  }, []);

  function commit(allowed: Set<string>) {
    const next = windowsFromCells(allowed);
    latest.current = { allowed, partial: new Set() };
    setCells(latest.current);
    setSyncedKey(canonical(next));
    onChange(next);
  }

  function paint(keys: string[], value: boolean) {
    const cells = latest.current;
    const allowed = new Set(cells.allowed);
    let changed = false;
    for (const key of keys) {
      if (allowed.has(key) !== value || cells.partial.has(key)) changed = true;
      if (value) allowed.add(key);
      else allowed.delete(key);
    }
    if (changed) commit(allowed);
  }

  function onPointerDown(event: PointerEvent<HTMLDivElement>, day: Day, hour: number) {
    if (disabled || event.button !== 0) return;
    event.preventDefault(); // no text selection while dragging
    // Touch captures the pointer on the first cell; release it so the cells under the finger get events.
    if (event.currentTarget.hasPointerCapture?.(event.pointerId)) event.currentTarget.releasePointerCapture(event.pointerId);
    const key = cellKey(day, hour);
    const value = !latest.current.allowed.has(key) || latest.current.partial.has(key);
    paintValue.current = value;
    setActive({ day, hour });
    event.currentTarget.focus();
    paint([key], value);
  }

  function onPointerEnter(day: Day, hour: number) {
    if (disabled || paintValue.current === null) return;
    setActive({ day, hour });
    paint([cellKey(day, hour)], paintValue.current);
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>, day: Day, hour: number) {
    const d = DAYS.indexOf(day);
    let next: Active;
    switch (event.key) {
      case 'ArrowRight':
        next = { day, hour: Math.min(23, hour + 1) };
        break;
      case 'ArrowLeft':
        next = { day, hour: Math.max(0, hour - 1) };
        break;
      case 'ArrowDown':
        next = { day: DAYS[Math.min(6, d + 1)]!, hour };
        break;
      case 'ArrowUp':
        next = { day: DAYS[Math.max(0, d - 1)]!, hour };
        break;
      case 'Home':
        next = { day, hour: 0 };
        break;
      case 'End':
        next = { day, hour: 23 };
        break;
      case ' ':
      case 'Enter': {
        event.preventDefault();
        if (disabled) return;
        const key = cellKey(day, hour);
        paint([key], !latest.current.allowed.has(key) || latest.current.partial.has(key));
        return;
      }
      default:
        return;
    }
    event.preventDefault();
    focusNext.current = true;
    setActive(next);
    if (event.shiftKey && !disabled) paint([cellKey(next.day, next.hour)], latest.current.allowed.has(cellKey(day, hour)));
  }

  const count = cells.allowed.size;
  const summary =
    count === 0
      ? 'No hours painted: time does not limit sharing. Paint the hours when Offhours may share.'
      : windows === null
        ? 'Every hour of the week: time does not limit sharing.'
        : `Allowed: ${windows.map(windowWords).join('; ')}.`;

  return (
    <div className="week">
      <div className="week-toolbar">
        <p className="week-summary" data-testid="schedule-summary">
          {summary}
        </p>
        <div className="actions">
          <button type="button" className="button button-small button-secondary" disabled={disabled || count === 168} onClick={() => commit(allCells())}>
            Allow every hour
          </button>
          <button type="button" className="button button-small button-secondary" disabled={disabled || count === 0} onClick={() => commit(new Set())}>
            Clear the grid
          </button>
        </div>
      </div>
      <div className="week-scroll">
        <div
          role="grid"
          aria-label="Weekly schedule"
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          aria-disabled={disabled || undefined}
          className={`week-grid${invalid ? ' is-invalid' : ''}`}
          data-testid="schedule-grid"
        >
          <div role="row" className="week-row week-head">
            <div role="columnheader" className="week-corner">
              <span className="visually-hidden">Day</span>
            </div>
            {HOURS.map((h) => (
              <div role="columnheader" key={h} className={`week-hour${h % 3 === 0 ? ' is-major' : ''}`} aria-label={`${hh(h)}–${hh(h + 1)}`}>
                {String(h).padStart(2, '0')}
              </div>
            ))}
          </div>
          {DAYS.map((day) => (
            <div role="row" key={day} className="week-row">
              <div role="rowheader" className={`week-day${now?.day === day ? ' is-today' : ''}`} aria-label={DAY_NAME[day]}>
                {DAY_SHORT[day]}
              </div>
              {HOURS.map((hour) => {
                const key = cellKey(day, hour);
                const allowed = cells.allowed.has(key);
                const partial = allowed && cells.partial.has(key);
                const isNow = now?.day === day && now.hour === hour;
                const isActive = active.day === day && active.hour === hour;
                return (
                  <div
                    key={key}
                    ref={(el) => {
                      if (el) cellRefs.current.set(key, el);
                      else cellRefs.current.delete(key);
                    }}
                    role="gridcell"
                    tabIndex={isActive ? 0 : -1}
                    aria-selected={allowed && !partial}
                    aria-label={cellName(day, hour, allowed, partial) + (isNow ? ' (now)' : '')}
                    data-testid={`cell-${day}-${hour}`}
                    className={`week-cell${allowed ? ' is-on' : ''}${partial ? ' is-partial' : ''}${isNow ? ' is-now' : ''}${hour % 3 === 0 ? ' is-major' : ''}`}
                    onPointerDown={(e) => onPointerDown(e, day, hour)}
                    onPointerEnter={() => onPointerEnter(day, hour)}
                    onKeyDown={(e) => onKeyDown(e, day, hour)}
                    onFocus={() => {
                      if (!isActive) setActive({ day, hour });
                    }}
                  />
                );
              })}
            </div>
          ))}
        </div>
      </div>
      <div className="week-legend" aria-hidden="true">
        <span>
          <span className="swatch is-on" /> Allowed
        </span>
        <span>
          <span className="swatch" /> Not allowed
        </span>
        {cells.partial.size > 0 && (
          <span>
            <span className="swatch is-on is-partial" /> Part of the hour
          </span>
        )}
        {now && (
          <span>
            <span className="swatch is-now" /> Now
          </span>
        )}
        <span className="week-keys">Drag to paint · arrow keys move, Space toggles, Shift+arrow paints</span>
      </div>
    </div>
  );
}
