// Power, prices and money as the Power and Earnings pages show them. Money stays the decimal text
// the agent sent: shown as it is, compared as exact micros, never turned into a float here.
import { decimalToMicros, type PowerBasis, type PowerSourceKind, type PriceSource, type RenderDeviceChoice } from '../../protocol/index.js';

export const BASIS_LABEL: Record<PowerBasis, string> = { measured: 'measured', estimated: 'estimated' };

export const SOURCE_LABEL: Record<PowerSourceKind, string> = {
  'nvidia-smi': 'nvidia-smi',
  hwmon: 'hwmon sensor',
  rapl: 'RAPL counter',
  estimate: 'estimate from the device’s rated power',
};

export const PRICE_SOURCE_LABEL: Record<PriceSource, string> = {
  flat: 'flat price',
  band: 'time-of-use band',
  'season-default': 'season’s default price',
  dynamic: 'dynamic price',
  'dynamic-fallback': 'dynamic tariff’s fallback price',
  solar: 'own generation',
};

/** "gpu:0" -> "GPU 0": for places that have only the id (the readings carry the model name). */
export function deviceLabel(device: string, names?: ReadonlyMap<string, string>): string {
  const known = names?.get(device);
  if (known) return known;
  if (device === 'cpu') return 'CPU';
  if (device === 'disk') return 'Disk';
  const gpu = /^gpu:(\d+)$/.exec(device);
  return gpu ? `GPU ${gpu[1]}` : device;
}

/** The benchmark choice that exercises a device: its GPU when it is one (the best this machine has). */
export function benchmarkChoiceFor(device: string): RenderDeviceChoice {
  return device === 'cpu' ? 'CPU' : 'auto';
}

export function formatWatts(watts: number): string {
  return watts >= 100 ? `${Math.round(watts)} W` : `${watts.toFixed(1)} W`;
}

/** "0.31 EUR": the agent's text as it came. */
export function money(amount: string, currency: string): string {
  return `${amount} ${currency}`;
}

/** "14:30" in this computer's zone: when a price stops applying. */
export function clockOf(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
}

/** Watt-hours from the ledger's milliwatt-hours, in the unit a person reads. */
export function formatEnergy(mwh: number): string {
  if (mwh >= 1_000_000) return `${(mwh / 1_000_000).toFixed(2)} kWh`;
  return `${(mwh / 1000).toFixed(mwh >= 100_000 ? 0 : 1)} Wh`;
}

/** Exact comparison of decimal text (no float rounding between 0.1 and 0.10000001). */
export function compareDecimal(a: string, b: string): number {
  const d = decimalToMicros(a) - decimalToMicros(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** Whether a typed price is decimal text the agent accepts; a comma is read as the decimal point. */
export function normalizeDecimal(text: string): string {
  return text.trim().replace(',', '.');
}
