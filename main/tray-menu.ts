// What the tray shows, as plain data: a pure function of the agent's status (its decision's first
// reason, or the sharing state before the first decision) and of main's connection to it.
// main/tray.ts turns these descriptors into an Electron Menu; keeping the decisions here lets tests
// cover every state without Electron.
import type { EffectiveState, Status } from '../protocol/api.js';
import type { Decision } from '../protocol/policy.js';

/** Main's view of the agent, independent of what the agent itself reports. */
export type AgentConnection =
  | { kind: 'connecting' }
  | { kind: 'connected'; status: Status }
  /** The agent answered but refused our token (a token file replaced under a running app). */
  | { kind: 'unauthorized' }
  | { kind: 'disconnected'; since: number }
  /** The supervisor gave up restarting the agent. */
  | { kind: 'degraded'; reason: string };

export type TrayAction =
  | 'sharing-on'
  | 'sharing-off'
  | 'snooze-15m'
  | 'snooze-1h'
  | 'snooze-tomorrow'
  | 'drain'
  | 'open-dashboard'
  | 'restart-agent'
  | 'quit';

export type TrayMenuItem =
  | { type: 'separator' }
  | { type: 'normal'; label: string; enabled: boolean; action?: TrayAction }
  | { type: 'checkbox'; label: string; enabled: boolean; checked: boolean; action: TrayAction };

/** One image per state; Linux, Windows and macOS each pick their file for it (tray-icons.ts). */
export type TrayIconState = 'sharing' | 'paused' | 'off' | 'error';

export interface TrayView {
  icon: TrayIconState;
  tooltip: string;
  items: TrayMenuItem[];
}

const STATE_LABEL: Record<EffectiveState, string> = {
  sharing: 'Sharing',
  paused: 'Paused',
  draining: 'Finishing the current job',
  off: 'Sharing is off',
  error: 'Error',
};

// Draining still runs a job on the user's machine, so it must not look idle.
const STATE_ICON: Record<EffectiveState, TrayIconState> = {
  sharing: 'sharing',
  draining: 'sharing',
  paused: 'paused',
  off: 'off',
  error: 'error',
};

const DECISION_LABEL: Record<Decision['summary']['state'], string> = {
  running: 'Sharing',
  limited: 'Sharing within limits',
  paused: 'Paused',
  released: 'Not sharing',
};

/** Reasons that mean "the user turned it off" (or has not allowed it yet), not "a rule paused it". */
const USER_OFF_CODES: ReadonlySet<string> = new Set(['manual_off', 'consent_required', 'drained']);

/**
 * The icon for a decision: running or limited shows the sharing icon; stopped by the user's own
 * choice (off, consent not given yet, drained) the off icon; anything else that stops it (a rule,
 * idle time, a game, a snooze, sleep, heat) the paused icon, because it will resume by itself.
 */
export function decisionIcon(summary: Decision['summary']): TrayIconState {
  if (summary.state === 'running' || summary.state === 'limited') return 'sharing';
  return USER_OFF_CODES.has(summary.reason.code) ? 'off' : 'paused';
}

/** Menu rows are one line on every desktop; a long reason would widen the whole menu. */
const MAX_STATUS_CHARS = 90;

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= MAX_STATUS_CHARS ? oneLine : `${oneLine.slice(0, MAX_STATUS_CHARS - 1)}…`;
}

function statusLine(connection: AgentConnection): { text: string; icon: TrayIconState } {
  switch (connection.kind) {
    case 'connecting':
      return { text: 'Starting…', icon: 'off' };
    case 'unauthorized':
      return { text: 'The agent refused this app’s token', icon: 'error' };
    // Usually a restart in progress; the supervisor turns a lasting failure into 'degraded'.
    case 'disconnected':
      return { text: 'Reconnecting to the agent…', icon: 'off' };
    case 'degraded':
      return { text: `The agent keeps stopping: ${connection.reason}`, icon: 'error' };
    case 'connected': {
      const { state, reason } = connection.status.sharing;
      const { decision } = connection.status;
      // The agent's own trouble outranks what the policy would decide.
      if (decision !== null && state !== 'error') {
        const text = decision.summary.reason.text.trim();
        return { text: text === '' ? DECISION_LABEL[decision.summary.state] : text, icon: decisionIcon(decision.summary) };
      }
      const text = reason.text.trim() === '' ? STATE_LABEL[state] : `${STATE_LABEL[state]}: ${reason.text}`;
      return { text, icon: STATE_ICON[state] };
    }
  }
}

export function trayView(connection: AgentConnection): TrayView {
  const line = statusLine(connection);
  const items: TrayMenuItem[] = [{ type: 'normal', label: clip(line.text), enabled: false }, { type: 'separator' }];

  let mode: Status['sharing']['manual']['mode'] | null = null;
  let needsConsent = false;
  if (connection.kind === 'connected') {
    const { status } = connection;
    // The toggle follows what the user asked for (manual mode), not the effective state: sharing
    // may be "on" yet paused by a rule, and unticking must still turn it off.
    mode = status.sharing.manual.mode;
    const on = mode === 'on';
    // The agent keeps sharing off until the first-run screen is done; offering "on" would only fail.
    needsConsent = status.consent.required;
    items.push({
      type: 'checkbox',
      label: needsConsent ? 'Sharing on (finish setup in the dashboard first)' : 'Sharing on',
      enabled: !needsConsent,
      checked: on,
      action: on ? 'sharing-off' : 'sharing-on',
    });
  } else {
    items.push({ type: 'checkbox', label: 'Sharing on', enabled: false, checked: false, action: 'sharing-on' });
  }

  // Snoozing pauses sharing that is on and resumes it by itself: offered while sharing is on (or
  // already snoozed or draining), never when the user turned it off, which a snooze would undo at
  // its end. Shown disabled otherwise, so the menu keeps its shape.
  const canSnooze = mode !== null && mode !== 'off' && !needsConsent;
  items.push({ type: 'normal', label: 'Snooze 15 minutes', enabled: canSnooze, action: 'snooze-15m' });
  items.push({ type: 'normal', label: 'Snooze 1 hour', enabled: canSnooze, action: 'snooze-1h' });
  items.push({ type: 'normal', label: 'Snooze until tomorrow 7:00', enabled: canSnooze, action: 'snooze-tomorrow' });
  // Draining matters only while sharing is on; when it already drains there is nothing to ask.
  items.push({ type: 'normal', label: 'Finish current work, then stop', enabled: mode === 'on' && !needsConsent, action: 'drain' });

  if (connection.kind === 'degraded') items.push({ type: 'normal', label: 'Restart the agent', enabled: true, action: 'restart-agent' });

  // The window explains a missing or broken agent, so it opens in every state.
  items.push({ type: 'normal', label: 'Open dashboard', enabled: true, action: 'open-dashboard' });
  items.push({ type: 'separator' });
  items.push({ type: 'normal', label: 'Quit Offhours', enabled: true, action: 'quit' });

  return { icon: line.icon, tooltip: clip(`Offhours: ${line.text}`), items };
}
