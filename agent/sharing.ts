// What sharing is doing right now, from what the user asked for. Pure and clock-injected.
// The policy engine (schedule rules, idle, games) will refine "on" into running or paused;
// until then "on" means "allowed", and the reason says plainly that there is nothing to run.
import { InputError } from './errors.js';
import { CONSENT_VERSION, type EffectiveState, type ManualSharing, type Reason, type Settings, type SharingRequest } from '../protocol/index.js';

export interface SharingView {
  state: EffectiveState;
  reason: Reason;
}

export function consentRequired(settings: Settings): boolean {
  return settings.consent.acceptedAt === null || settings.consent.version < CONSENT_VERSION;
}

function localTime(iso: string, timeZone?: string): string {
  return new Date(iso).toLocaleString(undefined, { hour: '2-digit', minute: '2-digit', weekday: 'short', timeZone });
}

/** A snooze whose time has come is "on" again. */
export function activeManual(manual: ManualSharing, now: Date): ManualSharing {
  if (manual.mode === 'snooze' && manual.until !== null && Date.parse(manual.until) <= now.getTime()) {
    return { mode: 'on', until: null, changedAt: manual.until };
  }
  return manual;
}

export function sharingView(settings: Settings, now: Date, activeWork = 0, timeZone?: string): SharingView {
  if (consentRequired(settings)) {
    return { state: 'off', reason: { code: 'consent_required', text: 'Sharing is off until you finish the first-run screen.' } };
  }
  const manual = activeManual(settings.sharing, now);
  switch (manual.mode) {
    case 'off':
      return { state: 'off', reason: { code: 'manual_off', text: 'Sharing is off. Turn it on from the tray or the dashboard.' } };
    case 'snooze':
      return { state: 'paused', reason: { code: 'snoozed', text: `Snoozed until ${localTime(manual.until ?? now.toISOString(), timeZone)}.` } };
    case 'drain':
      return activeWork > 0
        ? { state: 'draining', reason: { code: 'draining', text: 'Finishing the current work, then stopping.' } }
        : { state: 'off', reason: { code: 'drained', text: 'Current work is finished; nothing new will start until you turn sharing on.' } };
    case 'on':
      return { state: 'sharing', reason: { code: 'no_work_source', text: 'Sharing is on. Nothing to run yet: no network is configured.' } };
  }
}

/** Kept as a named kind of InputError so callers can tell what was refused. */
export class SharingRequestError extends InputError {
  constructor(code: 'consent_required' | 'invalid_request', message: string, field?: string) {
    super(code, message, field ? [{ path: field, message }] : []);
  }
}

/** Checks a request against the clock and consent, and gives the manual state to store. */
export function applySharingRequest(settings: Settings, req: SharingRequest, now: Date): ManualSharing {
  if (req.mode === 'on' && consentRequired(settings)) {
    throw new SharingRequestError('consent_required', 'Finish the first-run screen before turning sharing on.');
  }
  if (req.mode === 'snooze') {
    const until = Date.parse(req.until ?? '');
    if (!(until > now.getTime())) throw new SharingRequestError('invalid_request', '"until" must be in the future', 'until');
    if (until - now.getTime() > 31 * 24 * 3600_000) {
      throw new SharingRequestError('invalid_request', '"until" may be at most 31 days ahead; turn sharing off instead', 'until');
    }
    return { mode: 'snooze', until: new Date(until).toISOString(), changedAt: now.toISOString() };
  }
  return { mode: req.mode, until: null, changedAt: now.toISOString() };
}
