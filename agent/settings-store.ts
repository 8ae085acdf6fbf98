// Settings in lowdb, with a schema version and migrations. A file that fails to parse or validate
// is never silently reset: it is kept aside under a dated name, the problem is reported, and the
// agent starts from defaults, which means sharing off until the user confirms again.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { DATA_FILES, SETTINGS_SCHEMA_VERSION, Settings, defaultSettings, fieldErrors } from '../protocol/index.js';
import { fileStamp } from './fs-util.js';
import { SETTINGS_MIGRATIONS, migrateSettings, type Migration } from './settings-migrations.js';

export interface SettingsRecovery {
  /** Where the unreadable file was moved. */
  keptAs: string;
  reason: string;
  at: string;
}

export interface LoadedSettings {
  settings: Settings;
  recovery: SettingsRecovery | null;
  migratedFrom: number | null;
}

export class SettingsStore {
  private constructor(
    private readonly db: Low<Settings>,
    readonly path: string,
    readonly loaded: LoadedSettings,
  ) {}

  static async open(
    dataDir: string,
    opts: { now?: () => Date; migrations?: readonly Migration[]; currentVersion?: number } = {},
  ): Promise<SettingsStore> {
    const now = opts.now ?? (() => new Date());
    const path = join(dataDir, DATA_FILES.settings);
    const loaded = loadSettingsFile(path, now(), opts.migrations ?? SETTINGS_MIGRATIONS, opts.currentVersion ?? SETTINGS_SCHEMA_VERSION);
    const db = new Low<Settings>(new JSONFile<Settings>(path), loaded.settings);
    db.data = loaded.settings;
    // Persist defaults on first run and the migrated shape after an upgrade, so the file on disk
    // always has the current schema.
    if (loaded.recovery || loaded.migratedFrom !== null || !existsSync(path)) await db.write();
    return new SettingsStore(db, path, loaded);
  }

  get(): Settings {
    return structuredClone(this.db.data);
  }

  /** Applies a change to a copy, validates the result, and writes it atomically (lowdb's steno). */
  async update(change: (draft: Settings) => void): Promise<Settings> {
    const draft = structuredClone(this.db.data);
    change(draft);
    const parsed = Settings.safeParse(draft);
    if (!parsed.success) throw new Error(`refusing to save invalid settings: ${JSON.stringify(fieldErrors(parsed.error))}`);
    this.db.data = parsed.data;
    await this.db.write();
    return this.get();
  }
}

export function loadSettingsFile(path: string, now: Date, migrations: readonly Migration[], currentVersion: number): LoadedSettings {
  if (!existsSync(path)) return { settings: defaultSettings(), recovery: null, migratedFrom: null };
  let reason: string;
  try {
    const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
    const { value, from } = migrateSettings(raw, migrations, currentVersion);
    const parsed = Settings.safeParse(value);
    if (parsed.success) return { settings: parsed.data, recovery: null, migratedFrom: from === currentVersion ? null : from };
    reason = `it does not match the settings schema (${fieldErrors(parsed.error)
      .map((f) => `${f.path}: ${f.message}`)
      .join('; ')})`;
  } catch (err) {
    reason = err instanceof SyntaxError ? `it is not valid JSON (${err.message})` : (err as Error).message;
  }
  const keptAs = join(path, '..', `settings.unreadable-${fileStamp(now)}.json`);
  renameSync(path, keptAs);
  return { settings: defaultSettings(), recovery: { keptAs, reason, at: now.toISOString() }, migratedFrom: null };
}
