// Importing a dynamic price table: every bad row is named by its line, good rows are kept, and
// what comes out is a valid dynamic plan.
import { describe, expect, it } from 'vitest';
import { parseTariffCsv } from '../../agent/energy/tariff-csv.js';
import { DynamicPlan } from '../../protocol/index.js';

const asPlan = (slots: unknown) => DynamicPlan.parse({ kind: 'dynamic', fallbackPerKwh: '0.25', slots });

describe('parseTariffCsv', () => {
  it('reads start,end,price with a header, keeping negative prices', () => {
    const r = parseTariffCsv('start,end,price\n2026-11-25T00:00:00Z,2026-11-25T00:30:00Z,0.1234\n2026-11-25T00:30:00Z,2026-11-25T01:00:00Z,-0.05\n');
    expect(r.errors).toEqual([]);
    expect(r.unit).toBe('major');
    expect(r.slots).toEqual([
      { start: '2026-11-25T00:00:00Z', end: '2026-11-25T00:30:00Z', perKwh: '0.1234' },
      { start: '2026-11-25T00:30:00Z', end: '2026-11-25T01:00:00Z', perKwh: '-0.05' },
    ]);
    expect(() => asPlan(r.slots)).not.toThrow();
  });

  it('reads rows without a header as start, end, price', () => {
    const r = parseTariffCsv('2026-11-25T00:00:00+01:00,2026-11-25T00:30:00+01:00,0.3\n');
    expect(r).toEqual({ slots: [{ start: '2026-11-25T00:00:00+01:00', end: '2026-11-25T00:30:00+01:00', perKwh: '0.3' }], errors: [], unit: 'major' });
  });

  it('reads an Octopus export: BOM, CRLF, quoted fields, columns in its order, pence', () => {
    const text =
      '\uFEFF"value_exc_vat","value_inc_vat","valid_from","valid_to"\r\n' +
      '"15.2","15.96","2026-11-25T00:00:00Z","2026-11-25T00:30:00Z"\r\n' +
      '"-2.1","-2.205","2026-11-25T00:30:00Z","2026-11-25T01:00:00Z"\r\n';
    const r = parseTariffCsv(text);
    expect(r.errors).toEqual([]);
    expect(r.unit).toBe('minor');
    expect(r.slots.map((s) => s.perKwh)).toEqual(['0.1596', '-0.02205']);
    // The user can say the column is in pounds after all.
    expect(parseTariffCsv(text, { unit: 'major' }).slots.map((s) => s.perKwh)).toEqual(['15.96', '-2.205']);
  });

  it('rounds float noise to the micro, half away from zero, without floating point', () => {
    const r = parseTariffCsv('valid_from,valid_to,value_inc_vat\n2026-11-25T00:00Z,2026-11-25T00:30Z,12.600000000000001\n2026-11-25T00:30Z,2026-11-25T01:00Z,-0.00005\n');
    expect(r.errors).toEqual([]);
    expect(r.slots).toEqual([
      { start: '2026-11-25T00:00:00Z', end: '2026-11-25T00:30:00Z', perKwh: '0.126' },
      { start: '2026-11-25T00:30:00Z', end: '2026-11-25T01:00:00Z', perKwh: '-0.000001' },
    ]);
  });

  it('names the line of every bad row and keeps the good ones', () => {
    const text = [
      'start,end,price', // 1
      '2026-11-25T00:00:00Z,2026-11-25T00:30:00Z,0.10', // 2
      '2026-11-25T00:30:00,2026-11-25T01:00:00Z,0.10', // 3: no offset
      '', // 4: blank, skipped
      '2026-11-25T01:00:00Z,2026-11-25T01:30:00Z,0,12', // 5: a decimal comma makes a fourth column
      '2026-11-25T01:30:00Z,2026-11-25T01:00:00Z,0.10', // 6: ends before it starts
      '2026-11-25T02:00:00Z,2026-11-25T02:30:00Z,abc', // 7
      '2026-11-25T02:30:00Z,2026-11-25T03:00:00Z', // 8: too few columns
      'yesterday,2026-11-25T03:30:00Z,0.1', // 9
      '2026-11-25T03:30:00Z,2026-11-25T04:00:00Z,', // 10
    ].join('\n');
    const r = parseTariffCsv(text);
    expect(r.slots.map((s) => s.start)).toEqual(['2026-11-25T00:00:00Z']);
    expect(r.errors).toEqual([
      { line: 3, message: 'the start "2026-11-25T00:30:00" has no UTC offset; add Z or one such as +01:00' },
      { line: 5, message: "expected 3 columns, found 4; is a price written with a decimal comma? Use '.'" },
      { line: 6, message: 'the slot ends (2026-11-25T01:00:00Z) before it starts (2026-11-25T01:30:00Z)' },
      { line: 7, message: `the price "abc" is not a number such as 0.2345 (use '.' for decimals)` },
      { line: 8, message: 'expected 3 columns, found 2' },
      { line: 9, message: 'the start "yesterday" is not a date-time such as 2024-03-31T01:00:00Z' },
      { line: 10, message: 'the price is empty' },
    ]);
  });

  it('sorts rows out of order and reports overlaps and repeats by line', () => {
    const text = [
      '2026-11-25T01:00:00Z,2026-11-25T01:30:00Z,0.3', // 1
      '2026-11-25T00:00:00Z,2026-11-25T00:30:00Z,0.1', // 2
      '2026-11-25T00:30:00Z,2026-11-25T01:00:00Z,0.2', // 3
      '2026-11-25T00:45:00Z,2026-11-25T01:15:00Z,0.9', // 4: overlaps line 3
      '2026-11-25T00:00:00Z,2026-11-25T00:30:00Z,0.1', // 5: repeats line 2
    ].join('\r\n');
    const r = parseTariffCsv(text);
    expect(r.slots.map((s) => s.perKwh)).toEqual(['0.1', '0.2', '0.3']);
    expect(r.errors).toEqual([
      { line: 4, message: 'overlaps line 3 (2026-11-25T00:30:00Z to 2026-11-25T01:00:00Z); left out' },
      { line: 5, message: 'repeats line 2; left out' },
    ]);
    expect(() => asPlan(r.slots)).not.toThrow();
  });

  it('counts lines inside a quoted field that spans lines, and accepts semicolons and a space for T', () => {
    const text = 'from;to;per_kwh;note\n2026-11-25 00:00:00+0100;2026-11-25 00:30:00+0100;0.2;"two\nlines"\n2026-11-25 00:30:00+0100;bad;0.2;x\n';
    const r = parseTariffCsv(text);
    expect(r.slots).toEqual([{ start: '2026-11-25T00:00:00+01:00', end: '2026-11-25T00:30:00+01:00', perKwh: '0.2' }]);
    expect(r.errors).toEqual([{ line: 4, message: 'the end "bad" is not a date-time such as 2024-03-31T01:00:00Z' }]);
  });

  it('explains a header it does not understand, and an empty file', () => {
    expect(parseTariffCsv('when,cost\n2026-11-25T00:00:00Z,0.1\n').errors).toEqual([
      { line: 1, message: 'the header "when,cost" does not name the columns; use start,end,price or valid_from,valid_to,value_inc_vat' },
    ]);
    expect(parseTariffCsv('\uFEFF\r\n').errors).toEqual([{ line: 1, message: 'the file has no rows' }]);
  });
});
