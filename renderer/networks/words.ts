// Connection states and amounts as the Networks page shows them.
import type { HubConnectionState, NodeReputation } from '../../protocol/index.js';

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

/** "92 % (good)": the hub's score as people read it; a newcomer starts at 50 %. */
export function reputationText(r: NodeReputation): string {
  const pct = Math.round(r.score * 100);
  const word = r.score >= 0.8 ? 'good' : r.score >= 0.5 ? 'fair' : 'poor: the hub offers work to others first';
  return `${pct} % (${word})`;
}
