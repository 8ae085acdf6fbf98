import type { Status } from '../protocol/index.js';

const STATE_WORD: Record<Status['sharing']['state'], string> = {
  sharing: 'Sharing',
  paused: 'Paused',
  draining: 'Draining',
  off: 'Off',
  error: 'Error',
};

export function formatStatus(status: Status, dashboard: string): string {
  const lines = [
    `Offhours agent ${status.agent.version} (pid ${status.agent.pid}, ${status.agent.headless ? 'headless' : 'in the app'})`,
    `Sharing:   ${STATE_WORD[status.sharing.state]}: ${status.sharing.reason.text}`,
    `Data:      ${status.agent.dataDir}`,
    `Dashboard: ${dashboard}`,
  ];
  if (status.consent.required) lines.push('First run: open the dashboard to review what Offhours runs and give your consent.');
  for (const p of status.problems) lines.push(`Warning:   ${p.text}`);
  return lines.join('\n');
}
