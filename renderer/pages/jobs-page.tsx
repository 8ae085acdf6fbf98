// Jobs: what runs on this machine, live. Active jobs with their progress, the console of the one
// the user picked, the history with outcomes and output hashes, and a form to render a .blend of
// one's own. Everything comes from the agent connection (loaded on connect, then 'job' pushes).
import { useId, useState, type FormEvent } from 'react';
import type { FieldError, JobSummary, RenderDeviceChoice } from '../../protocol/index.js';
import { PageHeader } from '../components/page-header.js';
import { formatClock } from '../format.js';
import { ConsoleView } from '../jobs/console-view.js';
import { EngineCard } from '../jobs/engine-card.js';
import {
  currentFrameLine,
  DEVICE_CHOICES,
  formatDuration,
  formatEta,
  framesLine,
  isActive,
  JOB_STATE_LABEL,
  JOB_STATE_TONE,
  jobDuration,
  queueFieldOf,
  shortHash,
  type QueueField,
} from '../jobs/words.js';
import { canAct, useAgent } from '../use-agent.js';

export const JOBS_EMPTY = 'No jobs yet. Offhours has not run any work on this machine.';

export function JobsPage() {
  const { state, agent } = useAgent();
  const jobs = state.jobs;
  const active = jobs?.filter(isActive) ?? [];
  const history = jobs?.filter((j) => !isActive(j)) ?? [];
  const [picked, setPicked] = useState<string | null>(null);

  // The console shows the job the user picked, else the first active one.
  const shown = (picked !== null ? jobs?.find((j) => j.id === picked) : undefined) ?? active[0];

  return (
    <>
      <PageHeader title="Jobs" subtitle="The work Offhours runs on this machine, live." />
      {state.jobsError && (
        <div className="banner banner-danger" role="alert" data-testid="jobs-error">
          <p className="banner-text">{state.jobsError}</p>
          <button type="button" className="button button-small button-secondary" onClick={() => void agent.loadJobs()}>
            Try again
          </button>
        </div>
      )}
      <div className="page-grid">
        {jobs === undefined && !state.jobsError && (
          <section className="card">
            <p className="loading-line">
              <span className="spinner" aria-hidden="true" /> Loading jobs…
            </p>
          </section>
        )}
        {jobs !== undefined && jobs.length === 0 && (
          <section className="card empty-state" data-testid="empty-state">
            <div className="empty-icon" aria-hidden="true" />
            <p className="empty-title">{JOBS_EMPTY}</p>
            <p className="empty-text">
              Render one of your own Blender scenes with the form below to try it: it runs under your schedule, like any other work. Jobs from
              networks will be listed here too once joining networks is built.
            </p>
          </section>
        )}

        {active.length > 0 && (
          <section className="card" aria-labelledby="jobs-active">
            <h2 id="jobs-active" className="card-title">
              Running and waiting
            </h2>
            <ul className="job-list">
              {active.map((job) => (
                <ActiveJobRow key={job.id} job={job} shown={shown?.id === job.id} onShow={() => setPicked(job.id)} />
              ))}
            </ul>
          </section>
        )}

        {shown && (
          <section className="card" aria-labelledby="jobs-console">
            <div className="card-head">
              <div>
                <h2 id="jobs-console" className="card-title">
                  Console — {shown.title}
                </h2>
                <p className="card-sub">What the engine prints, as it prints it.</p>
              </div>
            </div>
            <ConsoleView key={shown.id} jobId={shown.id} label={`Console of ${shown.title}`} />
          </section>
        )}

        <QueueForm onQueued={(job) => setPicked(job.id)} />

        <EngineCard />

        {history.length > 0 && (
          <section className="card" aria-labelledby="jobs-history">
            <h2 id="jobs-history" className="card-title">
              History
            </h2>
            <ul className="job-list">
              {history.map((job) => (
                <HistoryRow key={job.id} job={job} shown={shown?.id === job.id} onShow={() => setPicked(job.id)} />
              ))}
            </ul>
          </section>
        )}
      </div>
    </>
  );
}

function StatePill({ job }: { job: JobSummary }) {
  return (
    <span className={`state-pill res-${JOB_STATE_TONE[job.state]}`} data-testid="job-state">
      <span className="mini-dot" aria-hidden="true" />
      {JOB_STATE_LABEL[job.state]}
    </span>
  );
}

function ShowConsoleButton({ job, shown, onShow }: { job: JobSummary; shown: boolean; onShow: () => void }) {
  return (
    <button type="button" className="button button-small button-ghost" aria-pressed={shown} onClick={onShow} aria-label={`Show the console of ${job.title}`}>
      {shown ? 'Console shown' : 'Show console'}
    </button>
  );
}

function ActiveJobRow({ job, shown, onShow }: { job: JobSummary; shown: boolean; onShow: () => void }) {
  const { state, agent } = useAgent();
  const p = job.progress;
  const eta = formatEta(p);
  const frameLine = p ? currentFrameLine(p) : null;
  const canceling = state.pending === `cancel:${job.id}`;
  const showReason = job.reason && (job.state === 'paused' || job.state === 'queued' || job.state === 'starting');
  return (
    <li className="job-row" data-testid="job-row" data-job-id={job.id} data-state={job.state}>
      <div className="job-head">
        <span className="job-title">{job.title}</span>
        <StatePill job={job} />
        <span className="job-meta">
          {job.device ? `on ${job.device}` : 'device not chosen yet'}
          {job.attempts > 1 ? ` · attempt ${job.attempts}` : ''}
        </span>
        <span className="job-actions">
          <ShowConsoleButton job={job} shown={shown} onShow={onShow} />
          <button
            type="button"
            className="button button-small button-danger"
            aria-label="Cancel job"
            title={`Cancel ${job.title}`}
            disabled={!canAct(state)}
            aria-busy={canceling}
            onClick={() => void agent.cancelJob(job.id)}
          >
            {canceling && <span className="spinner spinner-inline" aria-hidden="true" />}
            Cancel job
          </button>
        </span>
      </div>
      {showReason && (
        <p className="job-reason" data-testid="job-reason">
          {job.reason!.text}
        </p>
      )}
      <div className="job-progress" data-testid="job-progress">
        {p ? (
          <>
            <div className="progress-line">
              <progress className="progress" max={1} value={p.fraction} aria-label={`${job.title}: whole job`} />
              <span className="progress-figure">{Math.floor(p.fraction * 100)} %</span>
            </div>
            <p className="progress-text">
              <span data-testid="job-frames">{framesLine(p)}</span>
              {eta && (
                <>
                  {' · '}
                  <span data-testid="job-eta">{eta}</span>
                </>
              )}
              {' · '}
              <span>{formatDuration(p.elapsedS)} so far</span>
            </p>
            {frameLine && (
              <div className="progress-line progress-line-frame">
                {p.sample !== null && p.samples !== null && (
                  <progress className="progress progress-small" max={p.samples} value={p.sample} aria-label={`${job.title}: samples of frame ${p.frame}`} />
                )}
                <span className="progress-text" data-testid="job-frame">
                  {frameLine}
                </span>
              </div>
            )}
          </>
        ) : (
          <p className="progress-text">{job.state === 'queued' ? 'Not started yet.' : 'Waiting for the engine’s first status line…'}</p>
        )}
      </div>
    </li>
  );
}

/** Deleting takes the frames with it: the button says so in its name, and asks once more. */
function DeleteJobButton({ job }: { job: JobSummary }) {
  const { state, agent } = useAgent();
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className="button button-small button-ghost" disabled={!canAct(state)} onClick={() => setAsking(true)} aria-label={`Delete ${job.title} and its frames`}>
        Delete
      </button>
    );
  }
  return (
    <>
      <button type="button" className="button button-small button-danger" disabled={!canAct(state)} aria-busy={state.pending === `delete:${job.id}`} onClick={() => void agent.deleteJob(job.id)}>
        Delete job and frames
      </button>
      <button type="button" className="button button-small button-secondary" onClick={() => setAsking(false)}>
        Keep
      </button>
    </>
  );
}

function HistoryRow({ job, shown, onShow }: { job: JobSummary; shown: boolean; onShow: () => void }) {
  const duration = jobDuration(job);
  const failure = job.failure ?? job.result?.failure ?? null;
  const frames = job.result?.frames ?? [];
  const extra = job.result?.extraFiles ?? [];
  return (
    <li className="job-row" data-testid="job-row" data-job-id={job.id} data-state={job.state}>
      <div className="job-head">
        <span className="job-title">{job.title}</span>
        <StatePill job={job} />
        <span className="job-meta">
          {duration !== null ? `ran ${formatDuration(duration)}` : 'did not run'}
          {job.finishedAt ? ` · ended ${formatClock(job.finishedAt)}` : ''}
          {job.result ? ` · ${job.result.device}` : job.device ? ` · ${job.device}` : ''}
          {job.result ? ` · sandbox: ${job.result.sandbox === 'none' ? 'none' : job.result.sandbox}` : ''}
        </span>
        <span className="job-actions">
          <ShowConsoleButton job={job} shown={shown} onShow={onShow} />
          <DeleteJobButton job={job} />
        </span>
      </div>
      {failure && (
        <div className="job-failure" data-testid="job-failure">
          <p>
            {failure.text} <code className="job-code">{failure.code}</code>
          </p>
          {failure.line && <pre className="job-failure-line">{failure.line}</pre>}
        </div>
      )}
      {!failure && job.state === 'canceled' && job.reason && <p className="job-reason">{job.reason.text}</p>}
      {(frames.length > 0 || extra.length > 0) && (
        <ul className="job-outputs" aria-label={`Output of ${job.title}`} data-testid="job-outputs">
          {frames.map((f) => (
            <li key={f.file} className="job-output">
              <span className="job-output-name">{f.file}</span>
              <span className="job-output-size">
                {f.width}×{f.height}
              </span>
              <span className="job-hash" title={`SHA-256 ${f.sha256}`} data-testid="output-hash" data-sha256={f.sha256}>
                sha256 {shortHash(f.sha256)}
              </span>
            </li>
          ))}
          {extra.map((f) => (
            <li key={f.path} className="job-output">
              <span className="job-output-name">{f.path}</span>
              <span className="job-output-size">{f.bytes} bytes</span>
              <span className="job-hash" title={`SHA-256 ${f.sha256}`} data-testid="output-hash" data-sha256={f.sha256}>
                sha256 {shortHash(f.sha256)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

// ---- the queue form ---------------------------------------------------------------------------

function wholeNumber(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  return Number(t);
}

function QueueForm({ onQueued }: { onQueued: (job: JobSummary) => void }) {
  const { state, agent } = useAgent();
  const ids = useId();
  const [blendFile, setBlendFile] = useState('');
  const [start, setStart] = useState('1');
  const [end, setEnd] = useState('1');
  const [device, setDevice] = useState<RenderDeviceChoice>('auto');
  const [errors, setErrors] = useState<{ fields: FieldError[]; message: string } | null>(null);
  const [queued, setQueued] = useState<string | null>(null);
  const sending = state.pending === 'queue-render';

  /** A new value in a field clears the "queued" line about the last job. */
  const edited = <T,>(apply: (value: T) => void) => (value: T) => {
    setQueued(null);
    apply(value);
  };

  const byField = new Map<QueueField, string[]>();
  for (const f of errors?.fields ?? []) {
    const key = queueFieldOf(f.path);
    byField.set(key, [...(byField.get(key) ?? []), key === 'general' ? `${f.path}: ${f.message}` : f.message]);
  }
  const errorId = (field: QueueField) => `${ids}-err-${field}`;
  const invalid = (field: QueueField) => (byField.has(field) ? true : undefined);
  const describedBy = (field: QueueField, ...more: string[]) => [...more, ...(byField.has(field) ? [errorId(field)] : [])].join(' ') || undefined;
  const fieldError = (field: QueueField) =>
    byField.has(field) ? (
      <p id={errorId(field)} className="field-error" data-testid={`error-${field}`}>
        {[...new Set(byField.get(field))].join(' · ')}
      </p>
    ) : null;
  const frameField = (field: 'start' | 'end', label: string, value: string, set: (v: string) => void) => (
    <div className="form-field">
      <label htmlFor={`${ids}-${field}`}>{label}</label>
      <input
        id={`${ids}-${field}`}
        className="input input-number"
        type="number"
        inputMode="numeric"
        min={1}
        step={1}
        value={value}
        onChange={(e) => edited(set)(e.target.value)}
        aria-invalid={invalid(field)}
        aria-describedby={describedBy(field)}
      />
      {fieldError(field)}
    </div>
  );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const local: FieldError[] = [];
    const first = wholeNumber(start);
    const last = wholeNumber(end);
    if (blendFile.trim() === '') local.push({ path: 'blendFile', message: 'Enter the path of a .blend file on this computer.' });
    if (first === null) local.push({ path: 'frames.start', message: 'Enter a whole frame number, 1 or more.' });
    if (last === null) local.push({ path: 'frames.end', message: 'Enter a whole frame number, 1 or more.' });
    if (local.length > 0) {
      setErrors({ fields: local, message: 'The render job has mistakes.' });
      return;
    }
    const result = await agent.queueRender({ kind: 'render', blendFile: blendFile.trim(), frames: { start: first!, end: last! }, device });
    if (!result.ok) {
      setErrors({ fields: result.error.fields ?? [], message: result.error.message });
      return;
    }
    setErrors(null);
    setQueued(result.value.title);
    onQueued(result.value);
  };

  return (
    <section className="card" aria-labelledby={`${ids}-title`}>
      <div>
        <h2 id={`${ids}-title`} className="card-title">
          Render a scene of your own
        </h2>
        <p className="card-sub">Your .blend, on this machine, under your schedule: it waits until your rules allow work, like any other job.</p>
      </div>
      <form className="queue-form" data-testid="queue-form" noValidate onSubmit={(e) => void submit(e)} aria-describedby={`${ids}-general`}>
        <div className="form-field form-field-wide">
          <label htmlFor={`${ids}-file`}>Blender file (.blend)</label>
          <input
            id={`${ids}-file`}
            className="input"
            type="text"
            spellCheck={false}
            autoComplete="off"
            placeholder="/home/you/scenes/shot.blend"
            value={blendFile}
            onChange={(e) => edited(setBlendFile)(e.target.value)}
            aria-invalid={invalid('blendFile')}
            aria-describedby={describedBy('blendFile', `${ids}-file-hint`)}
          />
          {fieldError('blendFile')}
          <p id={`${ids}-file-hint`} className="field-hint">
            The full path of the file on this computer. A web page cannot tell the agent where a picked file lives, so it is typed here; the
            desktop app will offer a file dialog later. The file is copied into the job’s own folder and never changed.
          </p>
        </div>
        {frameField('start', 'First frame', start, setStart)}
        {frameField('end', 'Last frame', end, setEnd)}
        <div className="form-field">
          <label htmlFor={`${ids}-device`}>Device</label>
          <select
            id={`${ids}-device`}
            className="select"
            value={device}
            onChange={(e) => edited(setDevice)(e.target.value as RenderDeviceChoice)}
            aria-invalid={invalid('device')}
            aria-describedby={describedBy('device')}
          >
            {DEVICE_CHOICES.map((d) => (
              <option key={d.value} value={d.value}>
                {d.label}
              </option>
            ))}
          </select>
          {fieldError('device')}
        </div>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={!canAct(state)} aria-busy={sending}>
            {sending && <span className="spinner spinner-inline" aria-hidden="true" />}
            Queue render
          </button>
          <div id={`${ids}-general`} role="status" className="form-status">
            {errors && (
              <p className="field-error" data-testid="queue-error">
                Not queued: {[...byField.keys()].some((k) => k !== 'general') ? 'see the marked fields.' : errors.message}
                {byField.has('general') ? ` ${[...new Set(byField.get('general'))].join(' · ')}` : ''}
              </p>
            )}
            {queued && !errors && <p data-testid="queued">Queued “{queued}”.</p>}
          </div>
        </div>
      </form>
    </section>
  );
}
