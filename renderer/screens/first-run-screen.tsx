// The first-run screen: what Offhours will do on this machine, said plainly, and the user's consent.
// Nothing is shared until one of its two buttons is pressed; the agent enforces the same rule.
import { useId, useState } from 'react';
import type { Status } from '../../protocol/index.js';
import { Brand } from '../components/brand.js';
import { ActionErrorAlert, ConnectionBanner } from '../components/feedback.js';
import { goTo } from '../routes.js';
import { canAct, useAgent } from '../use-agent.js';

const WHAT_IT_DOES: ReadonlyArray<{ title: string; text: string }> = [
  {
    title: 'Runs work from networks you join',
    text: 'Render and AI jobs, on this computer’s GPU and CPU — only while it is idle and inside the rules you set (schedule, battery, temperature, electricity price).',
  },
  {
    title: 'Stores encrypted pieces, if you choose',
    text: 'Pieces of data for those networks, encrypted so you never hold anything readable, in a folder you choose and up to a size cap you set.',
  },
  {
    title: 'Measures power to show what it costs',
    text: 'It measures (or clearly estimates) how much electricity the work uses, so you see the cost next to what you earned.',
  },
  {
    title: 'Gets out of your way',
    text: 'It stops as soon as you come back to the computer or a game starts.',
  },
  {
    title: 'Never touches a seed phrase',
    text: 'Payouts go to an address you control. Offhours never shows, asks for or stores a seed phrase.',
  },
  {
    title: 'Off whenever you want',
    text: 'Turn sharing off at any time from the tray icon or from this dashboard.',
  },
];

export function FirstRunScreen({ status }: { status: Status }) {
  const { state, agent } = useAgent();
  // Desktop users expect the app to come back after a reboot; a headless agent is started by its own service manager.
  const [startAtLogin, setStartAtLogin] = useState(!status.agent.headless);
  const checkboxId = useId();
  const noteId = useId();
  const disabled = !canAct(state);

  const agree = async (startSharing: boolean) => {
    const hashAtClick = window.location.hash;
    const result = await agent.completeFirstRun({ startAtLogin, startSharing });
    // The dashboard appears as soon as consent is recorded, before sharing is on: if the user has
    // already gone to another page meanwhile, stay there.
    if (result.ok && window.location.hash === hashAtClick) goTo('overview');
  };

  return (
    <main className="first-run">
      <ConnectionBanner />
      <div className="first-run-card">
        <Brand />
        <h1>Welcome to Offhours</h1>
        <p className="lead">
          Offhours puts this computer to work for decentralized networks while you are not using it, and pays you for
          it. Before anything runs, here is exactly what it will do on <strong>{status.agent.host}</strong>:
        </p>
        <ul className="promise-list">
          {WHAT_IT_DOES.map((item) => (
            <li key={item.title}>
              <span className="promise-dot" aria-hidden="true" />
              <div>
                <p className="promise-title">{item.title}</p>
                <p className="promise-text">{item.text}</p>
              </div>
            </li>
          ))}
        </ul>

        <div className="checkbox-row">
          <input
            id={checkboxId}
            type="checkbox"
            className="checkbox"
            checked={startAtLogin}
            disabled={disabled}
            aria-describedby={status.agent.headless ? noteId : undefined}
            onChange={(event) => setStartAtLogin(event.target.checked)}
          />
          <label htmlFor={checkboxId}>Start Offhours when I log in</label>
        </div>
        {status.agent.headless && (
          <p id={noteId} className="note">
            This agent runs without the desktop app, so this applies only when you use the desktop app. To start the
            agent itself at boot, use your system’s service manager.
          </p>
        )}

        <ActionErrorAlert />

        <div className="actions first-run-actions">
          <button
            type="button"
            className="button button-primary button-large"
            disabled={disabled}
            aria-busy={state.pending === 'first-run'}
            onClick={() => void agree(true)}
          >
            I agree — start sharing when idle
          </button>
          <button
            type="button"
            className="button button-secondary button-large"
            disabled={disabled}
            onClick={() => void agree(false)}
          >
            I agree, but keep sharing off for now
          </button>
        </div>
        <p className="fine-print">
          Agreeing records on this machine that you accepted this text. You can withdraw it at any time in Settings.
        </p>
      </div>
    </main>
  );
}
