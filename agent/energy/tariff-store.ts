// The user's tariffs, in their own file next to the settings: a dynamic price table can hold tens
// of thousands of slots, and settings.json is rewritten on every small change. Like the settings, a
// file that cannot be read is kept aside under a dated name and reported, never silently reset.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_FILES, TariffSettings, fieldErrors } from '../../protocol/index.js';
import { fileStamp, writeFileAtomic } from '../fs-util.js';

export interface TariffRecovery {
  keptAs: string;
  reason: string;
  at: string;
}

const EMPTY: TariffSettings = { active: null, tariffs: [] };

export class TariffStore {
  private value: TariffSettings;
  readonly recovery: TariffRecovery | null;
  private readonly listeners = new Set<(t: TariffSettings) => void>();

  constructor(
    dataDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    const path = join(dataDir, DATA_FILES.tariffs);
    this.path = path;
    const loaded = load(path, now());
    this.value = loaded.value;
    this.recovery = loaded.recovery;
  }

  readonly path: string;

  get(): TariffSettings {
    return this.value;
  }

  /** Validates and writes the whole set at once (an edit is never half-saved). */
  put(next: TariffSettings): TariffSettings {
    const parsed = TariffSettings.parse(next);
    writeFileAtomic(this.path, `${JSON.stringify({ version: 1, ...parsed })}\n`);
    this.value = parsed;
    for (const l of this.listeners) l(parsed);
    return parsed;
  }

  onChange(listener: (t: TariffSettings) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function load(path: string, now: Date): { value: TariffSettings; recovery: TariffRecovery | null } {
  if (!existsSync(path)) return { value: EMPTY, recovery: null };
  let reason: string;
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const { version, ...rest } = raw;
    if (version !== 1) throw new Error(`it has an unknown version (${String(version)})`);
    const parsed = TariffSettings.safeParse(rest);
    if (parsed.success) return { value: parsed.data, recovery: null };
    reason = `it does not match the tariff schema (${fieldErrors(parsed.error)
      .slice(0, 5)
      .map((f) => `${f.path}: ${f.message}`)
      .join('; ')})`;
  } catch (err) {
    reason = err instanceof SyntaxError ? `it is not valid JSON (${err.message})` : (err as Error).message;
  }
  const keptAs = join(path, '..', `tariffs.unreadable-${fileStamp(now)}.json`);
  renameSync(path, keptAs);
  return { value: EMPTY, recovery: { keptAs, reason, at: now.toISOString() } };
}
