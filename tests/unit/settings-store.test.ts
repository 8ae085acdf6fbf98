import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SettingsStore } from '../../agent/settings-store.js';
import { migrateSettings, type Migration } from '../../agent/settings-migrations.js';
import { SETTINGS_SCHEMA_VERSION, defaultPolicy, defaultSettings } from '../../protocol/index.js';
import { sharingView } from '../../agent/sharing.js';
import { useTempDirs } from '../support/tmp.js';

const fixedNow = () => new Date('2026-03-29T01:30:00Z');

describe('settings store', () => {
  const tmp = useTempDirs();

  it('creates defaults on first run, with sharing off and no consent', async () => {
    const dir = tmp();
    const store = await SettingsStore.open(dir, { now: fixedNow });
    expect(store.get()).toEqual(defaultSettings());
    expect(store.get().sharing.mode).toBe('off');
    expect(JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8'))).toEqual(defaultSettings());
  });

  it('persists updates to the real file', async () => {
    const dir = tmp();
    const store = await SettingsStore.open(dir);
    await store.update((d) => {
      d.startAtLogin = true;
    });
    const reopened = await SettingsStore.open(dir);
    expect(reopened.get().startAtLogin).toBe(true);
    expect(reopened.loaded.recovery).toBeNull();
  });

  it('refuses to save an invalid document and keeps the old one', async () => {
    const dir = tmp();
    const store = await SettingsStore.open(dir);
    await expect(
      store.update((d) => {
        (d as { startAtLogin: unknown }).startAtLogin = 'yes';
      }),
    ).rejects.toThrow(/invalid settings/);
    expect(store.get().startAtLogin).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8')).startAtLogin).toBe(false);
  });

  it.each([
    ['not JSON', '{"schemaVersion": 1, "consent": ', /not valid JSON/],
    ['wrong shape', JSON.stringify({ ...defaultSettings(), startAtLogin: 'sometimes' }), /startAtLogin/],
    ['no version', JSON.stringify({ consent: {} }), /schemaVersion/],
    ['from a newer Offhours', JSON.stringify({ ...defaultSettings(), schemaVersion: 99 }), /newer Offhours/],
  ])('keeps an unreadable file (%s) aside under a dated name and starts with sharing off', async (_name, content, reason) => {
    const dir = tmp();
    // A user who had consented and turned sharing on: after recovery it must be off again.
    writeFileSync(join(dir, 'settings.json'), content);
    const store = await SettingsStore.open(dir, { now: fixedNow });
    const recovery = store.loaded.recovery!;
    expect(recovery.reason).toMatch(reason);
    expect(recovery.keptAs).toBe(join(dir, 'settings.unreadable-2026-03-29T01-30-00Z.json'));
    expect(readFileSync(recovery.keptAs, 'utf8')).toBe(content);
    expect(store.get()).toEqual(defaultSettings());
    expect(sharingView(store.get(), fixedNow()).state).toBe('off');
    expect(readdirSync(dir).sort()).toEqual(['settings.json', 'settings.unreadable-2026-03-29T01-30-00Z.json']);
  });

  it('recovers from a consented, sharing-on file that got damaged: sharing is off afterwards', async () => {
    const dir = tmp();
    const good = { ...defaultSettings(), consent: { acceptedAt: '2026-01-01T00:00:00.000Z', version: 1 }, sharing: { mode: 'on', until: null, changedAt: null } };
    writeFileSync(join(dir, 'settings.json'), JSON.stringify(good).slice(0, -5));
    const store = await SettingsStore.open(dir);
    expect(store.loaded.recovery).not.toBeNull();
    expect(store.get().sharing.mode).toBe('off');
    expect(sharingView(store.get(), new Date()).reason.code).toBe('consent_required');
  });

  it('runs migrations in order and writes the migrated file', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ schemaVersion: 1, autostart: true }));
    const migrations: Migration[] = [
      { from: 1, migrate: (d) => ({ ...d, startAtLogin: d.autostart, autostart: undefined }) },
      { from: 2, migrate: (d) => ({ consent: { acceptedAt: null, version: 0 }, sharing: { mode: 'off', until: null, changedAt: null }, startAtLogin: d.startAtLogin }) },
    ];
    const { value, from } = migrateSettings(JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8')), migrations, 3);
    expect(from).toBe(1);
    expect(value).toEqual({ schemaVersion: 3, startAtLogin: true, consent: { acceptedAt: null, version: 0 }, sharing: { mode: 'off', until: null, changedAt: null } });
  });

  it('brings a version 2 file (policy, no render settings) to the current version: Blender is looked for as before', async () => {
    const dir = tmp();
    const v2 = { schemaVersion: 2, consent: { acceptedAt: '2026-01-01T00:00:00.000Z', version: 1 }, startAtLogin: true, sharing: { mode: 'on', until: null, changedAt: null }, policy: defaultPolicy() };
    writeFileSync(join(dir, 'settings.json'), JSON.stringify(v2));
    const store = await SettingsStore.open(dir);
    expect(store.loaded.migratedFrom).toBe(2);
    expect(store.loaded.recovery).toBeNull();
    expect(store.get()).toEqual({ ...v2, schemaVersion: SETTINGS_SCHEMA_VERSION, render: { blenderPath: null }, energy: { psuEfficiency: 0.9, calibrationFactor: 1, calibratedAt: null }, storage: { folder: null, capBytes: 0 }, payout: { address: null, confirmedAt: null }, networks: { hubs: [] } });
  });

  it('brings a version 5 file to version 7 with no payout address and no hubs: no hub is told where to pay until the user says', async () => {
    const dir = tmp();
    const v5 = {
      schemaVersion: 5,
      consent: { acceptedAt: '2026-01-01T00:00:00.000Z', version: 1 },
      startAtLogin: false,
      sharing: { mode: 'on', until: null, changedAt: null },
      policy: defaultPolicy(),
      render: { blenderPath: null },
      energy: { psuEfficiency: 0.9, calibrationFactor: 1, calibratedAt: null },
      storage: { folder: '/srv/offhours', capBytes: 1024 },
    };
    writeFileSync(join(dir, 'settings.json'), JSON.stringify(v5));
    const store = await SettingsStore.open(dir);
    expect(store.loaded.migratedFrom).toBe(5);
    expect(store.loaded.recovery).toBeNull();
    expect(store.get()).toEqual({ ...v5, schemaVersion: 7, payout: { address: null, confirmedAt: null }, networks: { hubs: [] } });
  });

  it('brings a version 6 file to version 7 with no hubs, keeping the payout address', async () => {
    const dir = tmp();
    const v6 = {
      ...defaultSettings(),
      schemaVersion: 6,
      payout: { address: '0x52908400098527886E0F7030069857D2E4169EE7', confirmedAt: '2026-01-01T00:00:00.000Z' },
    } as Record<string, unknown>;
    delete v6.networks;
    writeFileSync(join(dir, 'settings.json'), JSON.stringify(v6));
    const store = await SettingsStore.open(dir);
    expect(store.loaded.migratedFrom).toBe(6);
    expect(store.get()).toEqual({ ...v6, schemaVersion: 7, networks: { hubs: [] } });
  });

  it('treats a missing migration step as unreadable rather than guessing', () => {
    expect(() => migrateSettings({ schemaVersion: 1 }, [], 2)).toThrow(/no migration from settings version 1/);
  });

  it('does not leave temporary files behind after writes', async () => {
    const dir = tmp();
    const store = await SettingsStore.open(dir);
    for (let i = 0; i < 5; i++) await store.update((d) => void (d.startAtLogin = i % 2 === 0));
    expect(readdirSync(dir)).toEqual(['settings.json']);
    expect(existsSync(join(dir, 'settings.json'))).toBe(true);
  });
});
