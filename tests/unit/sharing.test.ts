import { describe, expect, it } from 'vitest';
import { activeManual, applySharingRequest, sharingView, SharingRequestError } from '../../agent/sharing.js';
import { defaultSettings, type Settings } from '../../protocol/index.js';

const now = new Date('2026-06-01T12:00:00Z');
const consented = (sharing: Settings['sharing']): Settings => ({ ...defaultSettings(), consent: { acceptedAt: '2026-05-01T00:00:00.000Z', version: 1 }, sharing });

describe('sharing view', () => {
  it('is off with a consent reason until the first-run screen is done, whatever the mode', () => {
    const s = { ...defaultSettings(), sharing: { mode: 'on' as const, until: null, changedAt: null } };
    expect(sharingView(s, now)).toMatchObject({ state: 'off', reason: { code: 'consent_required' } });
  });
  it('asks for consent again when the first-run text version changed', () => {
    const s: Settings = { ...consented({ mode: 'on', until: null, changedAt: null }), consent: { acceptedAt: '2026-01-01T00:00:00.000Z', version: 0 } };
    expect(sharingView(s, now).reason.code).toBe('consent_required');
  });
  it.each([
    ['on', null, 'sharing', 'no_work_source'],
    ['off', null, 'off', 'manual_off'],
    ['snooze', '2026-06-01T13:00:00.000Z', 'paused', 'snoozed'],
    ['snooze', '2026-06-01T11:00:00.000Z', 'sharing', 'no_work_source'],
    ['drain', null, 'off', 'drained'],
  ] as const)('mode %s (until %s) -> %s / %s', (mode, until, state, code) => {
    expect(sharingView(consented({ mode, until, changedAt: null }), now)).toMatchObject({ state, reason: { code } });
  });
  it('drains while work is still running', () => {
    expect(sharingView(consented({ mode: 'drain', until: null, changedAt: null }), now, 1).state).toBe('draining');
  });
  it('ends an expired snooze as on', () => {
    expect(activeManual({ mode: 'snooze', until: '2026-06-01T11:59:59.000Z', changedAt: null }, now).mode).toBe('on');
  });
});

describe('applySharingRequest', () => {
  it('refuses "on" without consent but allows "off"', () => {
    expect(() => applySharingRequest(defaultSettings(), { mode: 'on' }, now)).toThrow(SharingRequestError);
    expect(applySharingRequest(defaultSettings(), { mode: 'off' }, now).mode).toBe('off');
  });
  it('normalises the snooze end and refuses one in the past or too far ahead', () => {
    const s = consented({ mode: 'on', until: null, changedAt: null });
    expect(applySharingRequest(s, { mode: 'snooze', until: '2026-06-01T14:00:00+01:00' }, now)).toEqual({
      mode: 'snooze',
      until: '2026-06-01T13:00:00.000Z',
      changedAt: now.toISOString(),
    });
    expect(() => applySharingRequest(s, { mode: 'snooze', until: '2026-06-01T12:00:00Z' }, now)).toThrow(/future/);
    expect(() => applySharingRequest(s, { mode: 'snooze', until: '2026-08-01T12:00:00Z' }, now)).toThrow(/31 days/);
  });
});
