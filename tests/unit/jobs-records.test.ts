// The supervisor's small pieces: frames left to render, the console ring, the journal replay.
import { describe, expect, it } from 'vitest';
import { ConsoleRing } from '../../agent/jobs/console-ring.js';
import { replayJobs, type JobJournalEntry } from '../../agent/jobs/job-record.js';
import { workerEnv } from '../../agent/jobs/worker-starter.js';
import { remainingRanges } from '../../workers/runtime/frame-ranges.js';
import { ConsoleBatcher } from '../../workers/runtime/console-batcher.js';
import { JobSummary, RenderJobSpec } from '../../protocol/index.js';

describe('remainingRanges', () => {
  it('splits what is left into contiguous ranges', () => {
    expect(remainingRanges({ start: 1, end: 6 }, [])).toEqual([{ start: 1, end: 6 }]);
    expect(remainingRanges({ start: 1, end: 6 }, [1, 2, 4])).toEqual([
      { start: 3, end: 3 },
      { start: 5, end: 6 },
    ]);
    expect(remainingRanges({ start: 1, end: 3 }, [1, 2, 3])).toEqual([]);
    expect(remainingRanges({ start: 5, end: 5 }, [99])).toEqual([{ start: 5, end: 5 }]);
  });
});

describe('ConsoleRing', () => {
  it('keeps the last bytes raw and the last lines clean', () => {
    const ring = new ConsoleRing(20, 2);
    ring.push('\u001b[32mone\u001b[0m\r\ntwo\n');
    ring.push('three\nfou');
    expect(ring.text().length).toBeLessThanOrEqual(20);
    expect(ring.text().endsWith('three\nfou')).toBe(true);
    expect(ring.tail()).toEqual(['three', 'fou']);
    ring.push('r\n');
    expect(ring.tail()).toEqual(['three', 'four']);
  });
});

describe('ConsoleBatcher', () => {
  it('sends output in batches, and everything on flush', async () => {
    const sent: string[] = [];
    const b = new ConsoleBatcher((d) => sent.push(d), 5);
    b.push('a');
    b.push('b');
    expect(sent).toEqual([]);
    await new Promise((r) => setTimeout(r, 30));
    expect(sent).toEqual(['ab']);
    b.push('c');
    b.flush();
    expect(sent).toEqual(['ab', 'c']);
  });
});

describe('replayJobs', () => {
  const spec = RenderJobSpec.parse({ jobId: 'j_1', frames: { start: 1, end: 3 } });
  const at = '2026-01-01T00:00:00.000Z';
  it('queues again what was running, with its finished frames', () => {
    const entries: JobJournalEntry[] = [
      { type: 'queued', id: 'j_1', title: 'a.blend', spec, createdAt: at },
      { type: 'state', id: 'j_1', state: 'starting', reason: null, attempts: 1, at },
      { type: 'state', id: 'j_1', state: 'running', reason: null, attempts: 1, at },
      { type: 'frame', id: 'j_1', frame: 1 },
      { type: 'queued', id: 'j_2', title: 'b.blend', spec: { ...spec, jobId: 'j_2' }, createdAt: at },
      { type: 'state', id: 'j_2', state: 'canceled', reason: { code: 'canceled', text: 'Canceled.' }, attempts: 0, at },
    ];
    const jobs = replayJobs(entries);
    const one = jobs.get('j_1')!;
    expect(one.state).toBe('queued');
    expect(one.reason?.code).toBe('agent_restarted');
    expect([...one.framesDone]).toEqual([1]);
    expect(one.attempts).toBe(1);
    expect(jobs.get('j_2')!.state).toBe('canceled');
    expect(jobs.get('j_2')!.finishedAt).toBe(at);
    expect(() => JobSummary.parse(one.summary())).not.toThrow();
  });
});

describe('workerEnv', () => {
  it('passes no token or secret to a worker', () => {
    const env = workerEnv({ PATH: '/usr/bin', HOME: '/home/u', OFFHOURS_TOKEN: 'x', AWS_SECRET_ACCESS_KEY: 'y', GITHUB_TOKEN: 'z' });
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/home/u' });
  });
});
