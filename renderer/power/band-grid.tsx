// A season's bands on the week: 7 days x 24 hours, each hour colored by the band that covers most
// of it. Read-only: the bands are edited in their rows, the grid shows what they add up to
// (gaps fall to the season's default price, which is what people most often get wrong).
import type { Band } from '../../protocol/index.js';
import { DAY_NAME, DAY_SHORT } from '../schedule/words.js';
import { bandGrid, DAY_ORDER } from './tariff-draft.js';

/** The color classes in styles.css; bands beyond them reuse the palette. */
const PALETTE = 8;
const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

export function bandName(band: Band, index: number): string {
  return band.name ?? `Band ${index + 1}`;
}

export function BandGrid({ bands, defaultPerKwh, currency, label }: { bands: readonly Band[]; defaultPerKwh: string; currency: string; label: string }) {
  const grid = bandGrid(bands);
  return (
    <div className="week">
      <div className="week-scroll">
        <div role="grid" aria-label={label} aria-readonly="true" className="week-grid band-grid" data-testid="band-grid">
          <div role="row" className="week-row week-head">
            <div role="columnheader" className="week-corner">
              <span className="visually-hidden">Day</span>
            </div>
            {grid[0]!.map((_, h) => (
              <div role="columnheader" key={h} className={`week-hour${h % 3 === 0 ? ' is-major' : ''}`} aria-label={`${hh(h)}–${hh(h + 1)}`}>
                {String(h).padStart(2, '0')}
              </div>
            ))}
          </div>
          {DAY_ORDER.map((day, d) => (
            <div role="row" key={day} className="week-row">
              <div role="rowheader" className="week-day" aria-label={DAY_NAME[day]}>
                {DAY_SHORT[day]}
              </div>
              {grid[d]!.map((cell, h) => {
                const band = cell.band === null ? null : bands[cell.band]!;
                const what = band ? `${bandName(band, cell.band!)} (${band.perKwh} ${currency})` : `default price (${defaultPerKwh} ${currency})`;
                return (
                  <div
                    key={h}
                    role="gridcell"
                    aria-label={`${DAY_NAME[day]} ${hh(h)}–${hh(h + 1)}: ${what}${cell.partial ? ', part of the hour' : ''}`}
                    data-testid={`band-cell-${day}-${h}`}
                    data-band={cell.band ?? 'default'}
                    className={`week-cell band-cell ${cell.band === null ? 'band-default' : `band-color-${cell.band % PALETTE}`}${cell.partial ? ' is-partial-band' : ''}${h % 3 === 0 ? ' is-major' : ''}`}
                  />
                );
              })}
            </div>
          ))}
        </div>
      </div>
      <div className="week-legend" aria-hidden="true">
        {bands.map((b, i) => (
          <span key={i}>
            <span className={`swatch band-color-${i % PALETTE}`} /> {bandName(b, i)} · {b.perKwh}
          </span>
        ))}
        <span>
          <span className="swatch band-default" /> Default · {defaultPerKwh}
        </span>
      </div>
    </div>
  );
}
