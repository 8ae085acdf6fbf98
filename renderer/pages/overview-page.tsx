// Overview: what the agent is doing right now and why, the sharing control, and what needs attention.
import type { Decision, SharingRequest, Status } from '../../protocol/index.js';
import { formatClock, formatDateTime, MANUAL_MODE_LABEL, STATE_LABEL } from '../format.js';
import { canAct, useAgent } from '../use-agent.js';
import { PageHeader } from '../components/page-header.js';
import { routeHref } from '../routes.js';
import { CONDITION_KIND_WORDS, limitsWords, RESOURCE_STATE_LABEL, signalWords } from '../schedule/words.js';
import { targetLabel } from '../schedule/policy-draft.js';

const SNOOZE_MS = 60 * 60 * 1000;

interface ControlButton {
  label: string;
  request: () => SharingRequest;
  style: 'primary' | 'secondary' | 'danger';
}

/** The buttons that make sense for what the user last chose: no "snooze" when sharing is already off. */
function controlsFor(mode: Status['sharing']['manual']['mode']): ControlButton[] {
  const turnOn: ControlButton = { label: 'Turn sharing on', request: () => ({ mode: 'on' }), style: 'primary' };
  const turnOff: ControlButton = { label: 'Turn sharing off', request: () => ({ mode: 'off' }), style: 'danger' };
  switch (mode) {
    case 'on':
      return [
        turnOff,
        {
          label: 'Snooze 1 hour',
          request: () => ({ mode: 'snooze', until: new Date(Date.now() + SNOOZE_MS).toISOString() }),
          style: 'secondary',
        },
        { label: 'Finish current work, then stop', request: () => ({ mode: 'drain' }), style: 'secondary' },
      ];
    case 'off':
      return [turnOn];
    case 'snooze':
    case 'drain':
      return [turnOn, turnOff];
  }
}

function SharingCard({ status }: { status: Status }) {
  const { state, agent } = useAgent();
  const { sharing } = status;
  // The policy's decision says why better than the manual mode alone: "Paused: Cyberpunk2077.exe is running".
  const decision = state.decision ?? status.decision;
  const reason = decision ? decision.summary.reason : sharing.reason;
  const stale = state.phase === 'disconnected';
  const disabled = !canAct(state);

  return (
    <section className={`card status-card state-${sharing.state}${stale ? ' is-stale' : ''}`} aria-labelledby="sharing-heading">
      <div className="status-main">
        <h2 id="sharing-heading" className="card-label">
          Sharing status
        </h2>
        <p className="status-state">
          <span className="state-dot" aria-hidden="true" />
          <span data-testid="sharing-state">{STATE_LABEL[sharing.state]}</span>
        </p>
        <p className="status-reason" data-testid="sharing-reason">
          {reason.text}
        </p>
        {decision && decision.resources.some((r) => r.state === 'running' || r.state === 'limited') && (
          <ul className="status-others" data-testid="not-sharing">
            {decision.resources
              .filter((r) => r.state === 'paused' || r.state === 'released')
              .map((r) => (
                <li key={r.resource}>
                  <span className="status-others-label">{r.label}</span> — {r.reasons[0]?.text}
                </li>
              ))}
          </ul>
        )}
        <p className="status-meta">
          <span data-testid="manual-mode">{MANUAL_MODE_LABEL[sharing.manual.mode]}</span>
          {sharing.manual.mode === 'snooze' && sharing.manual.until && (
            <span data-testid="snooze-until">
              {' · '}until <time dateTime={sharing.manual.until}>{formatClock(sharing.manual.until)}</time>
            </span>
          )}
        </p>
        {stale && (
          <p className="stale-note" data-testid="status-stale">
            Last known status, from {formatClock(status.updatedAt)}. Not live while the agent is unreachable.
          </p>
        )}
      </div>
      <div className="status-controls" role="group" aria-label="Sharing control">
        {controlsFor(sharing.manual.mode).map((control) => {
          const request = control.request;
          const busy = state.pending !== null && state.pending === `sharing:${request().mode}`;
          return (
            <button
              key={control.label}
              type="button"
              className={`button button-${control.style}`}
              disabled={disabled}
              aria-busy={busy}
              onClick={() => void agent.setSharing(request())}
            >
              {busy && <span className="spinner spinner-inline" aria-hidden="true" />}
              {control.label}
            </button>
          );
        })}
      </div>
    </section>
  );
}

function ResourcesCard({ decision, stale }: { decision: Decision; stale: boolean }) {
  return (
    <section className={`card${stale ? ' is-stale' : ''}`} aria-labelledby="resources-heading" data-testid="decision">
      <div className="card-head">
        <h2 id="resources-heading" className="card-title">
          Each resource, right now
        </h2>
        <a className="card-link" href={routeHref('schedule')}>
          Edit the schedule
        </a>
      </div>
      {decision.resources.length === 0 ? (
        <p className="muted">{decision.summary.reason.text}</p>
      ) : (
        <ul className="resource-list">
          {decision.resources.map((r) => (
            <li key={r.resource} className={`resource-row res-${r.state}`} data-testid="resource-row" data-resource={r.resource}>
              <span className="resource-label">{r.label}</span>
              <span className="state-pill" data-testid="resource-state">
                <span className="mini-dot" aria-hidden="true" />
                {RESOURCE_STATE_LABEL[r.state]}
              </span>
              <span className="resource-reason">
                <span data-testid="resource-reason">{r.reasons[0]?.text}</span>
                {r.state === 'limited' && r.limits && limitsWords(r.limits) !== '' && (
                  <span className="resource-limits" data-testid="resource-limits">
                    Limited to {limitsWords(r.limits)}
                  </span>
                )}
                {!r.newWork && (r.state === 'running' || r.state === 'limited') && (
                  <span className="resource-limits">Finishing current work; nothing new starts.</span>
                )}
              </span>
              <time className="resource-since" dateTime={r.since} title={formatDateTime(r.since)}>
                since {formatClock(r.since)}
              </time>
            </li>
          ))}
        </ul>
      )}
      <p className="card-foot">
        {decision.proofs.reason.text}.{decision.keepAwake ? ' Keeping the computer awake while sharing.' : ''}
      </p>
    </section>
  );
}

function UncheckableCard({ decision }: { decision: Decision }) {
  if (decision.uncheckable.length === 0) return null;
  const undecided = decision.uncheckable.filter((u) => u.choice === 'ask');
  return (
    <section className={`card${undecided.length > 0 ? ' attention-card' : ''}`} aria-labelledby="uncheckable-heading" data-testid="overview-uncheckable">
      <div className="card-head">
        <h2 id="uncheckable-heading" className="card-title">
          Conditions this machine can’t check
        </h2>
        <a className="button button-small button-secondary" href={routeHref('schedule')}>
          {undecided.length > 0 ? 'Choose in Schedule' : 'Review in Schedule'}
        </a>
      </div>
      <ul className="problem-list">
        {decision.uncheckable.map((u) => (
          <li key={`${u.target}/${u.ruleId}/${u.condition}/${u.signal}`} className="problem" data-testid="overview-uncheckable-item">
            <span className="problem-icon" aria-hidden="true">
              ?
            </span>
            <div>
              <p className="problem-text">
                {signalWords(u.signal)} can’t be checked on this machine{u.note ? ` — ${u.note}` : ''}.
              </p>
              <p className="problem-meta">
                {targetLabel(u.target)} · rule “{u.ruleId}” · {CONDITION_KIND_WORDS[u.condition] ?? u.condition}:{' '}
                {u.choice === 'ask' ? 'waiting for your choice — the rule does not run until then.' : u.choice === 'ignore' ? 'dropped.' : 'the rule never runs here.'}
              </p>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function ProblemsCard({ problems }: { problems: Status['problems'] }) {
  if (problems.length === 0) return null;
  return (
    <section className="card problems-card" aria-labelledby="problems-heading" data-testid="problems">
      <h2 id="problems-heading" className="card-title">
        Needs your attention
      </h2>
      <ul className="problem-list">
        {problems.map((problem) => (
          <li key={`${problem.code}:${problem.at}`} className="problem" data-testid="problem">
            <span className="problem-icon" aria-hidden="true">
              !
            </span>
            <div>
              <p className="problem-text">{problem.text}</p>
              <p className="problem-meta">
                <time dateTime={problem.at}>{formatDateTime(problem.at)}</time> · <code>{problem.code}</code>
              </p>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function MachineCard({ agent }: { agent: Status['agent'] }) {
  return (
    <section className="card" aria-labelledby="machine-heading">
      <h2 id="machine-heading" className="card-title">
        This machine
      </h2>
      <dl className="facts">
        <div>
          <dt>Computer</dt>
          <dd>{agent.host}</dd>
        </div>
        <div>
          <dt>System</dt>
          <dd>{agent.platform}</dd>
        </div>
        <div>
          <dt>Agent</dt>
          <dd>
            {agent.version} · {agent.headless ? 'headless' : 'desktop app'}
          </dd>
        </div>
        <div>
          <dt>Running since</dt>
          <dd>
            <time dateTime={agent.startedAt}>{formatDateTime(agent.startedAt)}</time>
          </dd>
        </div>
      </dl>
    </section>
  );
}

function DecisionCards({ status }: { status: Status }) {
  const { state } = useAgent();
  const decision = state.decision ?? status.decision;
  if (!decision) return null;
  return (
    <>
      <UncheckableCard decision={decision} />
      <ResourcesCard decision={decision} stale={state.phase === 'disconnected'} />
    </>
  );
}

export function OverviewPage({ status }: { status: Status }) {
  return (
    <>
      <PageHeader title="Overview" subtitle="What Offhours is doing on this machine right now, and why." />
      <div className="page-grid">
        <SharingCard status={status} />
        <ProblemsCard problems={status.problems} />
        <DecisionCards status={status} />
        <MachineCard agent={status.agent} />
      </div>
    </>
  );
}
