// Hub work when the agent starts again, with the supervisor and the hub client faked at their
// interfaces (the real ones run in tests/integration/agent-hub-work.test.ts): a hub job the last
// agent left unfinished is canceled before anything can start and its lease given back once the hub
// answers; a frame that succeeded but never reached the outbox is delivered, once.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { Decision, JobDetail, JobSummary } from '../../protocol/index.js';
import type { HubClient } from '../../agent/network/hub-client.js';
import { HubWork, type HubWorkJobs } from '../../agent/network/hub-work.js';
import { waitFor } from '../support/jobs.js';
import { useTempDirs } from '../support/tmp.js';
import { silentLog } from './signals-support.js';

const NETWORK = 'hub.example:8787';

function summary(id: string, state: JobSummary['state'], leaseId: string, frames: JobSummary['result'] = null): JobSummary {
  return {
    id,
    kind: 'render',
    source: { kind: 'hub', network: NETWORK, taskId: `t_${id}`, leaseId, check: false },
    title: `job frame 1 · ${NETWORK}`,
    state,
    reason: null,
    progress: null,
    device: null,
    attempts: 1,
    createdAt: '2026-05-01T12:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    failure: null,
    result: frames,
  };
}

class FakeJobs implements HubWorkJobs {
  constructor(readonly jobs: JobSummary[]) {}
  queueHub(): Promise<JobSummary> {
    throw new Error('nothing should be queued');
  }
  cancel(id: string) {
    const j = this.jobs.find((x) => x.id === id)!;
    j.state = 'canceled';
    return j;
  }
  get(id: string) {
    const j = this.jobs.find((x) => x.id === id);
    return j ? ({ ...j, spec: { jobId: id, frames: { start: 1, end: 1 }, device: 'CPU', output: { format: 'PNG' } }, consoleTail: [] } as JobDetail) : null;
  }
  list() {
    return { jobs: this.jobs };
  }
  busy() {
    return false;
  }
  onJob() {
    return () => undefined;
  }
}

/** The hub's side: answers lease calls and holds uploaded blobs. */
class FakeClient {
  readonly origin = `http://${NETWORK}`;
  connected = false;
  calls: Array<{ path: string; body: unknown }> = [];
  blobsHeld = new Map<string, Buffer>();
  async call<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    this.calls.push({ path, body });
    const lease = /^\/v1\/leases\/([^/]+)\/(\w+)$/.exec(path);
    if (path === '/v1/leases') return schema.parse({ lease: null, retryAfterS: 60 });
    if (lease?.[2] === 'renew') return schema.parse({ leaseId: lease[1], deadline: new Date(Date.now() + 60_000).toISOString() });
    if (lease?.[2] === 'complete') return schema.parse({ result: (body as { result: unknown }).result });
    return schema.parse({});
  }
  blobs = {
    get: async (path: string) => {
      const hex = /\/v1\/blobs\/([0-9a-f]{64})\/status/.exec(path)![1]!;
      const held = this.blobsHeld.get(hex);
      return { ref: `sha256:${hex}`, received: held?.length ?? 0, complete: held !== undefined };
    },
    getRaw: async (): Promise<Response> => {
      throw new Error('no downloads here');
    },
    putRaw: async (path: string, body: ReadableStream<Uint8Array>) => {
      const hex = /\/v1\/blobs\/([0-9a-f]{64})\?/.exec(path)![1]!;
      const chunks: Buffer[] = [];
      for await (const c of Readable.fromWeb(body as never)) chunks.push(c as Buffer);
      this.blobsHeld.set(hex, Buffer.concat(chunks));
      return { ref: `sha256:${hex}`, received: Buffer.concat(chunks).length, complete: true };
    },
  };
}

const decision: Decision = {
  at: '2026-05-01T12:00:00.000Z',
  resources: [{ resource: 'cpu', label: 'CPU', state: 'paused', newWork: false, limits: null, matchedRule: null, reasons: [] }],
  summary: { state: 'paused', reason: { code: 'x', text: 'x' } },
} as unknown as Decision;

describe('hub work across an agent restart', () => {
  const tmp = useTempDirs();

  it('cancels unfinished hub jobs at once, gives their leases back, and delivers a frame that never reached the outbox', async () => {
    const dataDir = tmp();
    const png = Buffer.from('a rendered frame');
    mkdirSync(join(dataDir, 'jobs', 'j_done', 'frames'), { recursive: true });
    writeFileSync(join(dataDir, 'jobs', 'j_done', 'frames', 'frame_0001.png'), png);
    const hex = createHash('sha256').update(png).digest('hex');
    const jobs = new FakeJobs([
      summary('j_running', 'running', 'l_running'),
      summary('j_queued', 'queued', 'l_queued'),
      summary('j_done', 'succeeded', 'l_done', {
        jobId: 'j_done', outcome: 'succeeded', failure: null, device: 'CPU', sandbox: 'none', exit: { code: 0, signal: null },
        frames: [{ frame: 1, file: 'frame_0001.png', sha256: hex, width: 4, height: 4, bytes: png.length }], extraFiles: [], wallS: 1,
      }),
    ]);
    const client = new FakeClient();
    const work = new HubWork({ dataDir, jobs, clients: () => [client as unknown as HubClient], decision: () => decision, log: silentLog, now: () => new Date(), timings: { backoff: { baseMs: 20, maxMs: 50 } } });
    try {
      // Canceled in the constructor: before the supervisor could start either of them.
      expect(jobs.jobs.map((j) => j.state)).toEqual(['canceled', 'canceled', 'succeeded']);
      work.start();
      client.connected = true;
      work.clientChanged(client as unknown as HubClient);
      await waitFor(() => client.calls.some((c) => c.path === '/v1/leases/l_done/complete'), 'the recovered frame to be completed');
      expect(client.calls.find((c) => c.path === '/v1/leases/l_done/complete')!.body).toEqual({ result: { ref: `sha256:${hex}`, bytes: png.length, mediaType: 'image/png' } });
      expect(client.blobsHeld.get(hex)).toEqual(png);
      await waitFor(() => ['l_running', 'l_queued'].every((l) => client.calls.some((c) => c.path === `/v1/leases/${l}/release`)), 'the leftover leases to be released');
      expect(client.calls.filter((c) => c.path.endsWith('/release')).map((c) => c.body)).toEqual([{ reason: 'shutdown' }, { reason: 'shutdown' }]);
      // Nothing is leased while the CPU is paused.
      expect(client.calls.some((c) => c.path === '/v1/leases')).toBe(false);
      await waitFor(() => work.leasesFor(NETWORK).length === 0, 'the delivered lease to be let go');
    } finally {
      await work.close();
    }
    // The next start finds nothing to deliver again.
    const again = new FakeClient();
    again.connected = true;
    const second = new HubWork({ dataDir, jobs, clients: () => [again as unknown as HubClient], decision: () => decision, log: silentLog, now: () => new Date() });
    second.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(again.calls.filter((c) => c.path.endsWith('/complete'))).toEqual([]);
    await second.close();
  });
});
