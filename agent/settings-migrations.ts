// Settings migrations: each step takes the document of version N and returns version N+1.
// A file from a newer Offhours is not downgraded: it is kept aside like an unreadable one.
import { defaultEnergySettings, defaultNetworksSettings, defaultPolicy, defaultStorageSettings } from '../protocol/index.js';

export interface Migration {
  from: number;
  migrate(doc: Record<string, unknown>): Record<string, unknown>;
}

/** In order; each step's input is the document as the version before it wrote it. */
export const SETTINGS_MIGRATIONS: readonly Migration[] = [
  // 2: schedule rules arrived. Existing users get the safest preset (Gamer), which only shares
  // after 10 idle minutes with no game running, so an upgrade never widens what runs.
  { from: 1, migrate: (doc) => ({ ...doc, policy: defaultPolicy() }) },
  // 3: the Blender path setting. Nobody had one: null keeps looking for Blender as before.
  { from: 2, migrate: (doc) => ({ ...doc, render: { blenderPath: null } }) },
  // 4: energy settings. A PSU efficiency of 0.9 and no calibration until the user makes one.
  { from: 3, migrate: (doc) => ({ ...doc, energy: defaultEnergySettings() }) },
  // 5: shared disk. No folder until the user picks one: nothing is stored before that.
  { from: 4, migrate: (doc) => ({ ...doc, storage: defaultStorageSettings() }) },
  // 6: the payout address. None until the user types one: no hub is told where to pay before that.
  { from: 5, migrate: (doc) => ({ ...doc, payout: { address: null, confirmedAt: null } }) },
  // 7: hubs. None: an upgrade never connects this node anywhere it was not before.
  { from: 6, migrate: (doc) => ({ ...doc, networks: defaultNetworksSettings() }) },
];

export function migrateSettings(
  raw: unknown,
  migrations: readonly Migration[],
  currentVersion: number,
): { value: Record<string, unknown>; from: number } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('it is not a JSON object');
  let doc = raw as Record<string, unknown>;
  const from = doc.schemaVersion;
  if (typeof from !== 'number' || !Number.isInteger(from) || from < 1) throw new Error('it has no valid schemaVersion');
  if (from > currentVersion) {
    throw new Error(`it was written by a newer Offhours (settings version ${from}; this one understands up to ${currentVersion})`);
  }
  for (let v = from; v < currentVersion; v++) {
    const step = migrations.find((m) => m.from === v);
    if (!step) throw new Error(`no migration from settings version ${v}`);
    doc = { ...step.migrate(doc), schemaVersion: v + 1 };
  }
  return { value: doc, from };
}
