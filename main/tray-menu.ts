// What the tray shows, as plain data: a pure function of the agent's status and of main's
// connection to it. main/tray.ts turns these descriptors into an Electron Menu; keeping the
// decisions here lets tests cover every state without Electron.
import type { EffectiveState, Status } from '../protocol/api.js';

/** Main's view of the agent, independent of what the agent itself reports. */
export type AgentConnection =
  | { kind: 'connecting' }
  | { kind: 'connected'; status: Status }
  /** The agent answered but refused our token (a token file replaced under a running app). */
  | { kind: 'unauthorized' }
  | { kind: 'disconnected'; since: number }
  /** The supervisor gave up restarting the agent. */
  | { kind: 'degraded'; reason: string };

export type TrayAction = 'sharing-on' | 'sharing-off' | 'open-dashboard' | 'restart-agent' | 'quit';

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
      const text = reason.text.trim() === '' ? STATE_LABEL[state] : `${STATE_LABEL[state]}: ${reason.text}`;
      return { text, icon: STATE_ICON[state] };
    }
  }
}

export function trayView(connection: AgentConnection): TrayView {
  const line = statusLine(connection);
  const items: TrayMenuItem[] = [{ type: 'normal', label: clip(line.text), enabled: false }, { type: 'separator' }];

  if (connection.kind === 'connected') {
    const { status } = connection;
    // The toggle follows what the user asked for (manual mode), not the effective state: sharing
    // may be "on" yet paused by a rule, and unticking must still turn it off.
    const on = status.sharing.manual.mode === 'on';
    // The agent keeps sharing off until the first-run screen is done; offering "on" would only fail.
    const needsConsent = status.consent.required;
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

  if (connection.kind === 'degraded') items.push({ type: 'normal', label: 'Restart the agent', enabled: true, action: 'restart-agent' });

  // The window explains a missing or broken agent, so it opens in every state.
  items.push({ type: 'normal', label: 'Open dashboard', enabled: true, action: 'open-dashboard' });
  items.push({ type: 'separator' });
  items.push({ type: 'normal', label: 'Quit Offhours', enabled: true, action: 'quit' });

  return { icon: line.icon, tooltip: clip(`Offhours: ${line.text}`), items };
}
