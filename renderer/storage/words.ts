// Sizes, piece names and states as the Storage page shows them. Every size is in binary units (KiB,
// MiB, GiB, TiB), the units file managers on Linux and Windows use, and the exact byte count is kept
// in a title: storage users compare our numbers with their own, and rounding must not hide a gap.
import { GIB, type IngestState, type PieceState } from '../../protocol/index.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** "931.51 GiB", "127 B": two decimals from KiB on, so two figures that differ show different text. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(2)} ${UNITS[unit]}`;
}

/** "1,234,567 bytes", for the title under a rounded figure. */
export function exactBytes(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} bytes`;
}

/** The cap as the form shows it: whole GiB as they are, anything else to two decimals. */
export function gibText(bytes: number): string {
  const gib = bytes / GIB;
  return Number.isInteger(gib) ? String(gib) : gib.toFixed(2);
}

/** Typed GiB as bytes (a comma is read as the decimal point); NaN when it is no number, for the
 * schema to refuse. */
export function bytesOfGibText(text: string): number {
  const t = text.trim().replace(',', '.');
  if (t === '' || !/^\d*\.?\d*$/.test(t)) return Number.NaN;
  return Math.round(Number(t) * GIB);
}

/** "baga6ea4…h5mbi": enough of both ends to tell pieces apart at a glance. */
export function shortCid(cid: string): string {
  return cid.length <= 20 ? cid : `${cid.slice(0, 10)}…${cid.slice(-6)}`;
}

export const PIECE_STATE_LABEL: Record<PieceState, string> = {
  sealing: 'sealing',
  sealed: 'sealed',
  corrupt: 'corrupt',
  rejected: 'rejected',
};

export const PIECE_STATE_TONE: Record<PieceState, string> = {
  sealing: 'badge badge-warning',
  sealed: 'badge',
  corrupt: 'badge badge-danger',
  rejected: 'badge badge-danger',
};

export const INGEST_STATE_LABEL: Record<IngestState, string> = {
  waiting: 'waiting',
  copying: 'copying',
  sealing: 'sealing',
  done: 'done',
  failed: 'failed',
};

export const INGEST_STATE_TONE: Record<IngestState, string> = {
  waiting: 'badge badge-warning',
  copying: 'badge badge-warning',
  sealing: 'badge badge-warning',
  done: 'badge',
  failed: 'badge badge-danger',
};

/** "5/5 verified", or "3/5 verified": a proof passes only when every challenge does. */
export function proofScore(check: { passed: number; challenges: number }): string {
  return `${check.passed}/${check.challenges} verified`;
}

export function proofPassed(check: { passed: number; challenges: number; problem: string | null }): boolean {
  return check.passed === check.challenges && check.problem === null;
}
