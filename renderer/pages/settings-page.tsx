// Settings: start at login, the Blender to render with, the payout address, what this agent is and where it keeps its
// data, and consent.
import { useId, useState } from 'react';
import type { Settings, Status } from '../../protocol/index.js';
import { PageHeader } from '../components/page-header.js';
import { formatDateTime } from '../format.js';
import { canAct, useAgent } from '../use-agent.js';
import { PayoutsSection } from './payouts-section.js';

function StartupSection({ status, settings }: { status: Status; settings: Settings | undefined }) {
  const { state, agent } = useAgent();
  const checkboxId = useId();
  const noteId = useId();
  const checked = settings?.startAtLogin ?? status.startAtLogin;
  return (
    <section className="card" aria-labelledby="startup-heading">
      <h2 id="startup-heading" className="card-title">
        Startup
      </h2>
      <div className="checkbox-row">
        <input
          id={checkboxId}
          type="checkbox"
          className="checkbox"
          checked={checked}
          disabled={!canAct(state)}
          aria-busy={state.pending === 'settings'}
          aria-describedby={status.agent.headless ? noteId : undefined}
          onChange={(event) => void agent.patchSettings({ startAtLogin: event.target.checked })}
        />
        <label htmlFor={checkboxId}>Start Offhours when I log in</label>
      </div>
      {status.agent.headless ? (
        <p id={noteId} className="note" data-testid="headless-note">
          This agent runs headless, without the desktop app. Start at login applies to the desktop app only; to start
          this agent at boot, use your system’s service manager (for example a systemd user service).
        </p>
      ) : (
        <p className="muted">Offhours starts minimised to the tray and shares only when your rules allow it.</p>
      )}
    </section>
  );
}

/** The Blender jobs run with: one the user names, or (empty) whichever the agent finds. */
function RenderingSection({ settings }: { settings: Settings | undefined }) {
  const { state, agent } = useAgent();
  const ids = useId();
  const saved = settings?.render.blenderPath ?? null;
  const [draft, setDraft] = useState<string | null>(null);
  const [errors, setErrors] = useState<string[]>([]);
  const value = draft ?? saved ?? '';
  const save = async (blenderPath: string | null) => {
    const r = await agent.patchSettings({ render: { blenderPath } });
    if (r.ok) {
      setDraft(null);
      setErrors([]);
    } else setErrors(r.error.fields?.map((f) => f.message) ?? [r.error.message]);
  };
  return (
    <section className="card" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`} className="card-title">
        Rendering
      </h2>
      <form
        className="form-field"
        onSubmit={(e) => {
          e.preventDefault();
          void save(value.trim() === '' ? null : value.trim());
        }}
      >
        <label htmlFor={`${ids}-blender`}>Blender program</label>
        <input
          id={`${ids}-blender`}
          className="input"
          value={value}
          placeholder="Found automatically (PATH, then the usual install places, Steam too)"
          spellCheck={false}
          aria-invalid={errors.length > 0}
          aria-describedby={`${ids}-help`}
          onChange={(e) => setDraft(e.target.value)}
          data-testid="blender-path"
        />
        <p id={`${ids}-help`} className="muted">
          The full path of the Blender to render with, e.g. /usr/bin/blender or C:\Program Files\Blender Foundation\Blender 4.2\blender.exe. Leave it empty to let
          Offhours find one. Blender 3.0 to 5.x.
        </p>
        {errors.map((m) => (
          <p key={m} className="field-error" role="alert">
            {m}
          </p>
        ))}
        <div className="actions">
          <button type="submit" className="button" disabled={!canAct(state) || value.trim() === (saved ?? '')} aria-busy={state.pending === 'settings'}>
            Save
          </button>
          {saved !== null && (
            <button type="button" className="button button-secondary" disabled={!canAct(state)} onClick={() => void save(null)}>
              Find it automatically
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

function AboutSection({ status }: { status: Status }) {
  return (
    <section className="card" aria-labelledby="about-heading">
      <h2 id="about-heading" className="card-title">
        About this agent
      </h2>
      <dl className="facts">
        <div>
          <dt>Data directory</dt>
          <dd>
            <code className="path" data-testid="data-dir">
              {status.agent.dataDir}
            </code>
          </dd>
        </div>
        <div>
          <dt>Agent version</dt>
          <dd data-testid="agent-version">{status.agent.version}</dd>
        </div>
        <div>
          <dt>Dashboard version</dt>
          <dd>{__OFFHOURS_VERSION__}</dd>
        </div>
        <div>
          <dt>Computer</dt>
          <dd>
            {status.agent.host} ({status.agent.platform})
          </dd>
        </div>
      </dl>
    </section>
  );
}

function ConsentSection({ settings }: { settings: Settings | undefined }) {
  const { state, agent } = useAgent();
  const acceptedAt = settings?.consent.acceptedAt;
  return (
    <section className="card" aria-labelledby="consent-heading">
      <h2 id="consent-heading" className="card-title">
        Consent
      </h2>
      <p>
        {acceptedAt ? (
          <>
            You agreed to let Offhours share this machine on{' '}
            <time dateTime={acceptedAt}>{formatDateTime(acceptedAt)}</time>.
          </>
        ) : (
          'You agreed to let Offhours share this machine.'
        )}{' '}
        Withdrawing consent stops all sharing and shows the welcome screen again.
      </p>
      <div className="actions">
        <button
          type="button"
          className="button button-danger"
          disabled={!canAct(state)}
          onClick={() => void agent.patchSettings({ consent: { accepted: false } })}
        >
          Withdraw consent
        </button>
      </div>
    </section>
  );
}

export function SettingsPage({ status, settings }: { status: Status; settings: Settings | undefined }) {
  return (
    <>
      <PageHeader title="Settings" subtitle="How Offhours starts, and what it keeps on this machine." />
      <div className="page-grid">
        <StartupSection status={status} settings={settings} />
        <RenderingSection settings={settings} />
        <PayoutsSection settings={settings} />
        <AboutSection status={status} />
        <ConsentSection settings={settings} />
      </div>
    </>
  );
}
