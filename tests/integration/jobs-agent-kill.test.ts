// kill -9 of the headless agent (the built CLI) mid-render: the worker sees its channel close and
// takes the engine group with it, so no Blender is left; the next agent start re-queues the job
// from the journal and finishes it.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobSummary } from '../../protocol/index.js';
import { REPO, blender, buildScene } from '../support/blender.js';
import { requireProgram } from '../support/external.js';
import { startAgentProcess } from '../support/agent-process.js';
import { api } from '../support/agent-client.js';
import { WORKER_BUNDLE, calm, groupPids, inState, procStat, registry, startAgent, waitFor } from '../support/jobs.js';
import { defaultPolicy } from '../../protocol/index.js';

const found = blender();
const enabled = requireProgram(found, 'job supervisor, agent killed (real Blender)');

describe.runIf(enabled)('a headless agent killed with -9 mid-render', () => {
  let dir: string;
  beforeAll(() => {
    mkdirSync(join(REPO, '.tmp'), { recursive: true });
    dir = mkdtempSync(join(REPO, '.tmp', 'agent-kill-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves no Blender behind, and the next start re-queues and finishes the job', { timeout: 180_000 }, async () => {
    expect(existsSync(WORKER_BUNDLE)).toBe(true);
    const scene = join(dir, 'cube.blend');
    await buildScene(found.found!, scene, 'scene.cycles.use_adaptive_sampling = False');
    const dataDir = join(dir, 'data');
    const proc = await startAgentProcess(dataDir, ['--sensors', 'off']);
    const call = (method: string, path: string, body?: unknown) => api(proc.origin, proc.token, method, path, body);
    try {
      await call('PATCH', '/settings', { consent: { accepted: true, version: 1 }, policy: { ...defaultPolicy(), quietPeriodMinutes: 0 } });
      await call('POST', '/sharing', { mode: 'on' });
      await call('POST', '/signals', calm);
      const queued = await call('POST', '/jobs', { kind: 'render', blendFile: scene, frames: { start: 1, end: 2 }, device: 'CPU', resolution: { width: 64, height: 64 }, samples: 3000 });
      expect(queued.status, JSON.stringify(queued.json)).toBe(201);
      const job = JobSummary.parse(queued.json);
      await waitFor(() => registry(dataDir).some((e) => e.kind === 'engine'), 'the engine to start', 30_000);
      const engine = registry(dataDir).find((e) => e.kind === 'engine')!.pid;
      const worker = registry(dataDir).find((e) => e.kind === 'worker')!.pid;
      await proc.stop('SIGKILL');
      await waitFor(() => groupPids(engine).length === 0 && procStat(worker) === null, 'no engine and no worker after the agent died', 5_000);

      const next = await startAgent(dataDir);
      try {
        const done = await next.waitJob(job.id, inState('succeeded', 'failed'), 'the re-queued job to finish', 120_000);
        expect(done.state, JSON.stringify(done.failure)).toBe('succeeded');
        expect(done.result?.frames.map((f) => f.frame)).toEqual([1, 2]);
      } finally {
        await next.agent.stop();
      }
    } finally {
      // A child killed by a signal has exitCode null: only stop one that still runs.
      if (proc.child.exitCode === null && proc.child.signalCode === null) await proc.stop('SIGKILL');
    }
  });
});
