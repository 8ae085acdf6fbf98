// Importing a dynamic price table (Octopus Agile and the like) from CSV. The result is also the
// preview: the slots that will be kept and every row that will not, by its line in the file, so
// the user can fix the file rather than guess.
//
// Accepted:
// - columns start, end, price in that order, with or without a header row; a header may instead
//   use Octopus's names (valid_from, valid_to, value_inc_vat or value_exc_vat) or from/to/per_kwh,
//   in any order, and other columns are ignored;
// - comma, semicolon or tab as the separator (whichever the first line uses), quoted fields with
//   "" for a quote, CRLF or LF line ends, a UTF-8 byte-order mark, blank lines;
// - ISO 8601 date-times with Z or an offset (a space instead of the T is fine); a date-time
//   without an offset is refused, because it names no instant;
// - prices with '.' as the decimal separator, negative allowed, in the currency's main unit, or in
//   its hundredths (pence, cents) with `unit: 'minor'`. When no unit is given, a value_inc_vat or
//   value_exc_vat column is taken as pence, as Octopus publishes it. Digits beyond a millionth of
//   the main unit are rounded half away from zero (exports often carry float noise).
import { isoDateTime, MAX_DYNAMIC_SLOTS, microsToDecimal, type DynamicSlot } from '../../protocol/index.js';

export type PriceUnit = 'major' | 'minor';

export interface TariffCsvOptions {
  unit?: PriceUnit;
}

export interface TariffCsvError {
  /** 1-based line in the file where the row starts. */
  line: number;
  message: string;
}

export interface TariffCsvResult {
  /** Sorted by start, without overlaps: ready for a dynamic plan. */
  slots: DynamicSlot[];
  errors: TariffCsvError[];
  /** The unit the prices were read in. */
  unit: PriceUnit;
}

interface Row {
  line: number;
  fields: string[];
}

/** Splits CSV text into rows, each with the line it starts on (a quoted field may span lines). */
function csvRows(text: string, separator: string): Row[] {
  const rows: Row[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = 0;
  const endRow = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0]!.trim() !== '') rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else field += ch;
      if (ch === '\n') line++;
      i++;
      continue;
    }
    if (ch === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (ch === separator) {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      endRow();
      if (ch === '\r' && text[i + 1] === '\n') i++;
      line++;
      rowLine = line;
    } else {
      field += ch;
    }
    i++;
  }
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}

const START_NAMES = ['start', 'valid_from', 'from', 'start_time'];
const END_NAMES = ['end', 'valid_to', 'to', 'end_time'];
const PRICE_NAMES = ['price', 'value_inc_vat', 'per_kwh', 'perkwh', 'value_exc_vat'];
const PENCE_NAMES = ['value_inc_vat', 'value_exc_vat'];

const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
const WITHOUT_OFFSET = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/i;

/** A field as an ISO date-time the protocol accepts, or the reason it is not one. */
function dateTime(raw: string, column: string): { iso: string; ms: number } | string {
  let text = raw.trim().replace(/^(\d{4}-\d{2}-\d{2}) (?=\d)/, '$1T');
  if (text === '') return `the ${column} is empty`;
  if (WITHOUT_OFFSET.test(text)) return `the ${column} "${raw.trim()}" has no UTC offset; add Z or one such as +01:00`;
  if (!WITH_OFFSET.test(text)) return `the ${column} "${raw.trim()}" is not a date-time such as 2024-03-31T01:00:00Z`;
  text = text
    .replace(/z$/, 'Z')
    .replace(/([+-]\d{2})(\d{2})$/, '$1:$2')
    .replace(/T(\d{2}:\d{2})(?=Z|[+-])/, 'T$1:00');
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || !isoDateTime.safeParse(text).success) return `the ${column} "${raw.trim()}" is not a valid date-time`;
  return { iso: text, ms };
}

/** Decimal text in `unit` to integer micros of the main unit, rounded half away from zero. */
function priceMicros(raw: string, unit: PriceUnit): bigint | string {
  const text = raw.trim();
  const m = /^([+-]?)(\d+)(?:\.(\d*))?$|^([+-]?)\.(\d+)$/.exec(text);
  if (!m) return text === '' ? 'the price is empty' : `the price "${text}" is not a number such as 0.2345 (use '.' for decimals)`;
  const negative = (m[1] ?? m[4]) === '-';
  const whole = m[2] ?? '0';
  const frac = m[3] ?? m[5] ?? '';
  // Scale to the smallest unit the text names, then to micros with one rounding.
  const scale = 10n ** BigInt(frac.length);
  const numerator = BigInt(whole + frac) * 1_000_000n;
  const denominator = scale * (unit === 'minor' ? 100n : 1n);
  const micros = (numerator + denominator / 2n) / denominator;
  if (micros > 999_999_999_999_999n) return `the price "${text}" is too large`;
  return negative ? -micros : micros;
}

function detectSeparator(firstLine: string): string {
  if (firstLine.includes(',')) return ',';
  if (firstLine.includes(';')) return ';';
  if (firstLine.includes('\t')) return '\t';
  return ',';
}

interface Columns {
  start: number;
  end: number;
  price: number;
  pence: boolean;
}

function headerColumns(fields: string[]): Columns | null {
  const names = fields.map((f) => f.trim().toLowerCase());
  // By preference, so a file with both VAT columns is read with VAT included.
  const find = (options: string[]) => options.map((o) => names.indexOf(o)).find((i) => i >= 0) ?? -1;
  const start = find(START_NAMES);
  const end = find(END_NAMES);
  const price = find(PRICE_NAMES);
  if (start < 0 || end < 0 || price < 0) return null;
  return { start, end, price, pence: PENCE_NAMES.includes(names[price]!) };
}

/** Parses a dynamic price table; bad rows are reported by line and left out, good rows are kept. */
export function parseTariffCsv(text: string, options: TariffCsvOptions = {}): TariffCsvResult {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const firstLine = body.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  const rows = csvRows(body, detectSeparator(firstLine));
  const errors: TariffCsvError[] = [];
  if (rows.length === 0) return { slots: [], errors: [{ line: 1, message: 'the file has no rows' }], unit: options.unit ?? 'major' };

  let columns: Columns = { start: 0, end: 1, price: 2, pence: false };
  let width = 3;
  let data = rows;
  const first = rows[0]!;
  // Every data row starts with a year; anything else in the first row is a header.
  if (!/^\s*\d/.test(first.fields[0] ?? '')) {
    const found = headerColumns(first.fields);
    data = rows.slice(1);
    width = first.fields.length;
    if (found) columns = found;
    else {
      errors.push({
        line: first.line,
        message: `the header "${first.fields.join(',')}" does not name the columns; use start,end,price or valid_from,valid_to,value_inc_vat`,
      });
      return { slots: [], errors, unit: options.unit ?? 'major' };
    }
  }
  const unit = options.unit ?? (columns.pence ? 'minor' : 'major');

  const good: { line: number; start: number; end: number; slot: DynamicSlot }[] = [];
  for (const row of data) {
    // A stray column is most often a decimal comma, which would silently cut the price short.
    const extra = row.fields.slice(width).some((f) => f.trim() !== '');
    if (row.fields.length < width || extra) {
      const hint = extra ? "; is a price written with a decimal comma? Use '.'" : '';
      errors.push({ line: row.line, message: `expected ${width} columns, found ${row.fields.length}${hint}` });
      continue;
    }
    const start = dateTime(row.fields[columns.start]!, 'start');
    const end = dateTime(row.fields[columns.end]!, 'end');
    const price = priceMicros(row.fields[columns.price]!, unit);
    const problem = [start, end, price].find((v): v is string => typeof v === 'string');
    if (problem !== undefined) {
      errors.push({ line: row.line, message: problem });
      continue;
    }
    const s = start as { iso: string; ms: number };
    const e = end as { iso: string; ms: number };
    if (e.ms <= s.ms) {
      errors.push({ line: row.line, message: `the slot ends (${e.iso}) before it starts (${s.iso})` });
      continue;
    }
    good.push({ line: row.line, start: s.ms, end: e.ms, slot: { start: s.iso, end: e.iso, perKwh: microsToDecimal(price as bigint) } });
  }

  // Files concatenated from several downloads come out of order; order is recoverable, overlap is not.
  good.sort((a, b) => a.start - b.start || a.line - b.line);
  const slots: DynamicSlot[] = [];
  let kept: (typeof good)[number] | null = null;
  for (const g of good) {
    if (kept && g.start < kept.end) {
      const duplicate = g.start === kept.start && g.end === kept.end && g.slot.perKwh === kept.slot.perKwh;
      errors.push({
        line: g.line,
        message: duplicate
          ? `repeats line ${kept.line}; left out`
          : `overlaps line ${kept.line} (${kept.slot.start} to ${kept.slot.end}); left out`,
      });
      continue;
    }
    if (slots.length >= MAX_DYNAMIC_SLOTS) {
      errors.push({ line: g.line, message: `more than ${MAX_DYNAMIC_SLOTS} slots; the rest are left out` });
      break;
    }
    slots.push(g.slot);
    kept = g;
  }
  errors.sort((a, b) => a.line - b.line);
  return { slots, errors, unit };
}
