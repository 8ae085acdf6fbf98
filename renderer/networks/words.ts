// Connection states and amounts as the Networks page shows them.
import type { HubConnectionState } from '../../protocol/index.js';

export const HUB_STATE_LABEL: Record<HubConnectionState, string> = {
  connecting: 'Connecting',
  connected: 'Connected',
  'backing-off': 'Retrying',
  refused: 'Not registered',
  removed: 'Removed',
};

export const HUB_STATE_TONE: Record<HubConnectionState, string> = {
  connecting: 'badge badge-warning',
  connected: 'badge',
  'backing-off': 'badge badge-warning',
  refused: 'badge badge-danger',
  removed: 'badge',
};

/** "1.25 USDC, 0.4 FIL", or null when nothing was earned (the page says so in words). */
export function earningsText(earnings: Readonly<Record<string, string>>): string | null {
  const parts = Object.entries(earnings)
    .filter(([, amount]) => !/^-?0(\.0*)?$/.test(amount))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([token, amount]) => `${amount} ${token}`);
  return parts.length > 0 ? parts.join(', ') : null;
}
