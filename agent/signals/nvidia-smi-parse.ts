// Parsers for nvidia-smi's text output: the `--query-gpu` CSV stream, `pmon`, and
// `--query-compute-apps`. Pure functions, tested against recorded and synthetic output.
//
// nvidia-smi writes "[N/A]" or "[Not Supported]" (sometimes bare "N/A") where a GPU cannot give a
// value — a laptop GPU has no power.draw, a datacenter card in WDDM mode no per-process memory —
// so every numeric field is a number or null, and a line is dropped only when it is not a data line
// at all (a header, a cut-off line, an error message).

/** What the sampler asks for, in this order. */
export const GPU_QUERY_FIELDS = ['index', 'name', 'uuid', 'temperature.gpu', 'utilization.gpu', 'power.draw', 'memory.used'] as const;

export interface GpuSample {
  index: number;
  name: string | null;
  uuid: string | null;
  temperatureC: number | null;
  utilizationPercent: number | null;
  powerDrawW: number | null;
  memoryUsedMiB: number | null;
}

const NUMERIC: Record<string, keyof GpuSample> = {
  'temperature.gpu': 'temperatureC',
  'utilization.gpu': 'utilizationPercent',
  'power.draw': 'powerDrawW',
  'memory.used': 'memoryUsedMiB',
};

/**
 * One field: a number (units such as " %", " W", " MiB" are tolerated, for output made without
 * `nounits`), null for nvidia-smi's "not available" markers, undefined for anything else.
 */
export function parseQueryValue(raw: string): number | null | undefined {
  const v = raw.trim();
  if (/^\[.*\]$/.test(v) || /^(N\/A|Not Supported)$/i.test(v)) return null;
  const m = /^(-?\d+(?:\.\d+)?)(?:\s*(?:%|W|MiB|MB|C|MHz))?$/.exec(v);
  return m ? Number(m[1]) : undefined;
}

/**
 * One `--query-gpu` line with the fields it was asked for. Returns null for anything that is not a
 * complete data line. Without an `index` field (a single-GPU log) the index is 0. A GPU name with a
 * comma in it still parses: the fields around it are fixed, so the extra parts belong to the name.
 */
export function parseGpuLine(line: string, fields: readonly string[] = GPU_QUERY_FIELDS): GpuSample | null {
  const text = line.trim();
  if (text === '') return null;
  let parts = text.split(',');
  const nameAt = fields.indexOf('name');
  if (parts.length > fields.length && nameAt >= 0) {
    const extra = parts.length - fields.length;
    parts = [...parts.slice(0, nameAt), parts.slice(nameAt, nameAt + extra + 1).join(','), ...parts.slice(nameAt + extra + 1)];
  }
  if (parts.length !== fields.length) return null;
  const sample: GpuSample = { index: 0, name: null, uuid: null, temperatureC: null, utilizationPercent: null, powerDrawW: null, memoryUsedMiB: null };
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const raw = parts[i]!.trim();
    if (field === 'index') {
      if (!/^\d{1,2}$/.test(raw)) return null;
      sample.index = Number(raw);
    } else if (field === 'name' || field === 'uuid') {
      const value = parseQueryValue(raw) === null || raw === '' ? null : raw;
      sample[field] = value;
    } else if (field in NUMERIC) {
      const value = parseQueryValue(raw);
      if (value === undefined) return null;
      (sample as unknown as Record<string, number | null>)[NUMERIC[field]!] = value;
    }
  }
  return sample;
}

/**
 * Splits a stream of chunks into lines. A chunk can end in the middle of a line (pipes deliver
 * whatever is buffered), so the unfinished tail waits for the next chunk; `\r\n` from Windows too.
 */
export class LineSplitter {
  private rest = '';
  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split(/\r?\n/);
    this.rest = lines.pop() ?? '';
    // A stream that never sends a newline must not grow this buffer forever.
    if (this.rest.length > 64 * 1024) this.rest = '';
    return lines;
  }
  /** The unfinished tail, dropped when the stream ends: a cut-off line is not a sample. */
  reset(): void {
    this.rest = '';
  }
}

export interface GpuProcessUse {
  gpu: number;
  pid: number;
  /** C (compute), G (graphics), C+G, M (MPS) as pmon prints it; null from --query-compute-apps. */
  type: string | null;
  /** Streaming-multiprocessor share pmon measured for this process, null where it printed "-"
   * (no sample in that window) or where the source gives no per-process figure. */
  smPercent: number | null;
  name: string | null;
}

/**
 * `nvidia-smi pmon -c 1 [-s u|um]`. Columns come from its own `# gpu pid type …` header, because
 * they move with the -s options (fb may come before sm). The command name is the last column and
 * may hold spaces ("chrome --type=g"); a GPU without processes prints a row of dashes.
 */
export function parsePmon(text: string): GpuProcessUse[] {
  let columns: string[] | null = null;
  const rows: GpuProcessUse[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '') continue;
    if (t.startsWith('#')) {
      const names = t.replace(/^#\s*/, '').split(/\s+/);
      if (names[0] === 'gpu' && names.includes('pid')) columns = names;
      continue;
    }
    if (!columns) continue;
    const cells = t.split(/\s+/);
    if (cells.length < columns.length - 1) continue;
    const at = (col: string) => {
      const i = columns!.indexOf(col);
      return i >= 0 && i < cells.length ? cells[i]! : undefined;
    };
    const gpu = Number(at('gpu'));
    const pid = Number(at('pid'));
    if (!Number.isInteger(gpu) || !Number.isInteger(pid) || pid <= 0) continue;
    const sm = at('sm');
    const cmdAt = columns.indexOf('command');
    rows.push({
      gpu,
      pid,
      type: at('type') ?? null,
      smPercent: sm !== undefined && /^\d+(\.\d+)?$/.test(sm) ? Number(sm) : null,
      name: cmdAt >= 0 && cmdAt < cells.length ? cells.slice(cmdAt).join(' ') : null,
    });
  }
  return rows;
}

/** `--query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader,nounits`. */
export function parseComputeApps(text: string, gpuIndexByUuid: ReadonlyMap<string, number>): GpuProcessUse[] {
  const rows: GpuProcessUse[] = [];
  for (const line of text.split(/\r?\n/)) {
    const parts = line.split(',').map((p) => p.trim());
    if (parts.length < 2) continue;
    const gpu = gpuIndexByUuid.get(parts[0]!);
    const pid = Number(parts[1]);
    if (gpu === undefined || !Number.isInteger(pid) || pid <= 0) continue;
    rows.push({ gpu, pid, type: null, smPercent: null, name: null });
  }
  return rows;
}

/**
 * GPU load not caused by us, in percent of the GPU. `users` are the processes on this GPU, or null
 * when no process list could be read. `perProcess` says whether their smPercent figures are real
 * (pmon) or absent (--query-compute-apps lists compute users only, with no share).
 *
 * The approximation, case by case:
 * - none of our processes on this GPU: every bit of its utilization is someone else's;
 * - ours and others' with pmon figures: the others' SM shares, summed (pmon often prints "-" for
 *   graphics users, which then count as 0: a game next to our job is caught by the games source);
 * - ours and others' without figures: the whole utilization (utilization cannot be split per
 *   process, and the safe side is to assume the other process is busy);
 * - only ours in the compute list: 0 — graphics users (a compositor, a game) are invisible there;
 *   games are caught by the games source instead.
 * - no process list at all: utilization while nothing of ours runs, otherwise unknown (null).
 */
export function foreignGpuLoad(utilization: number | null, users: readonly GpuProcessUse[] | null, own: ReadonlySet<number>, perProcess: boolean): number | null {
  if (utilization === null) return null;
  if (users === null) return own.size === 0 ? utilization : null;
  const ours = users.filter((u) => own.has(u.pid));
  const theirs = users.filter((u) => !own.has(u.pid));
  if (ours.length === 0) return utilization;
  if (theirs.length === 0) return 0;
  if (perProcess) return Math.min(100, theirs.reduce((sum, u) => sum + (u.smPercent ?? 0), 0));
  return utilization;
}

/** nvidia-smi's own words when it runs but there is nothing to read, for the user's note. */
export function nvidiaUnavailableNote(output: string): string | null {
  if (/couldn't communicate with the NVIDIA driver|NVIDIA driver is not loaded|Failed to initialize NVML/i.test(output)) {
    return 'nvidia-smi is installed but cannot reach the NVIDIA driver (driver not loaded, or mismatched after an update)';
  }
  if (/No devices were found/i.test(output)) return 'nvidia-smi found no NVIDIA GPU';
  return null;
}
