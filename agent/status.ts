// The status every UI shows: who the agent is, what the user asked for, and what the policy
// decided, as one object pushed on every change.
import { hostname } from 'node:os';
import { CONSENT_VERSION, type Decision, type Problem, type Settings, type Status } from '../protocol/index.js';
import { activeManual, consentRequired, sharingView } from './sharing.js';
import { systemTimeZone } from './policy/local-time.js';

export interface StatusContext {
  version: string;
  startedAt: string;
  dataDir: string;
  headless: boolean;
  problems: () => Problem[];
  revision: () => number;
  settingsRevision: () => number;
}

export function buildStatus(ctx: StatusContext, settings: Settings, decision: Decision | null, now: Date, activeWork = 0): Status {
  const manual = activeManual(settings.sharing, now);
  let view = sharingView(settings, now, activeWork);
  // With sharing on, the policy has the last word on whether anything runs now, and why.
  if (view.state === 'sharing' && decision !== null) {
    const running = decision.summary.state === 'running' || decision.summary.state === 'limited';
    view = { state: running ? 'sharing' : 'paused', reason: decision.summary.reason };
  }
  return {
    agent: { version: ctx.version, pid: process.pid, startedAt: ctx.startedAt, dataDir: ctx.dataDir, host: hostname(), platform: process.platform, timeZone: systemTimeZone(), headless: ctx.headless },
    consent: { required: consentRequired(settings), currentVersion: CONSENT_VERSION },
    startAtLogin: settings.startAtLogin,
    sharing: { manual, state: view.state, reason: view.reason },
    decision,
    revision: ctx.revision(),
    settingsRevision: ctx.settingsRevision(),
    problems: ctx.problems(),
    updatedAt: now.toISOString(),
  };
}
