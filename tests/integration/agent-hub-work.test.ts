// Work leased from a real hub (PGlite in a temp dir, short leases) by real agents rendering with
// real Blender: a customer's 2-frame job is leased, rendered, uploaded and completed; a release by
// the policy gives the task back and another agent completes it; under drain the lease is kept and
// the job finishes; an upload cut off halfway (the hub stopped mid-PUT, restarted on its data dir)
// resumes from the hub's offset and completes once; and an agent killed with -9 mid-job leaves its
// lease to expire, after which another agent completes the task.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HubJobView, JobList, NetworksView, TaskView, defaultPolicy, type JobSummary } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/hub.js';
import { REPO, blender, buildScene } from '../support/blender.js';
import { requireProgram } from '../support/external.js';
import { startAgentProcess, type AgentProcess } from '../support/agent-process.js';
import { api } from '../support/agent-client.js';
import { calm, gameEnds, gameStarts, inState, registry, startAgent, waitFor, waitForAsync, type TestAgent } from '../support/jobs.js';

const found = blender();
const enabled = requireProgram(found, 'agent hub work (real Blender)');

const PAYOUT = Wallet.createRandom().address;
const NETWORK_TIMINGS = { heartbeatMs: 300, timeoutMs: 3_000, backoff: { baseMs: 100, maxMs: 500 } };

interface Hub {
  hub: RunningHub;
  dir: string;
  port: number;
}

async function hubCall(h: Hub, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${h.hub.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${h.hub.customerKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** The customer's side: the scene up to the blob store, then a job of one task per frame. */
async function submit(h: Hub, scene: string, frames: { start: number; end: number }, samples: number): Promise<HubJobView> {
  const bytes = readFileSync(scene);
  const hex = createHash('sha256').update(bytes).digest('hex');
  const put = await fetch(`${h.hub.url}/v1/blobs/${hex}?offset=0&length=${bytes.length}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${h.hub.customerKey}`, 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  expect(put.status, await put.clone().text()).toBe(200);
  const r = await hubCall(h, 'POST', '/v1/jobs', { kind: 'render', name: 'cube', scene: `sha256:${hex}`, frames, settings: { engine: 'cycles', samples, resolutionX: 64, resolutionY: 64 } });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return HubJobView.parse(r.json);
}

async function task(h: Hub, id: string): Promise<TaskView> {
  const r = await hubCall(h, 'GET', `/v1/tasks/${id}`);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return TaskView.parse(r.json);
}

const waitTask = (h: Hub, id: string, ok: (t: TaskView) => boolean, what: string, ms = 90_000) =>
  waitForAsync(async () => {
    const t = await task(h, id);
    return ok(t) ? t : undefined;
  }, what, ms);

async function hubJobs(a: TestAgent): Promise<JobSummary[]> {
  const r = await a.call('GET', '/jobs');
  expect(r.status).toBe(200);
  return JobList.parse(r.json).jobs.filter((j) => j.source.kind === 'hub');
}

const sha256Of = (path: string) => `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;

/** The frame an agent rendered for a job, as the hub should have it. */
function frameRef(a: TestAgent, job: JobSummary): string {
  const file = job.result!.frames[0]!.file;
  return sha256Of(join(a.dataDir, 'jobs', job.id, 'frames', file));
}

describe.runIf(enabled)('agents working for a hub', () => {
  let base: string;
  let scene: string;
  let slowScene: string;
  const hubs: Hub[] = [];
  const agents: TestAgent[] = [];
  const procs: AgentProcess[] = [];
  const servers: Server[] = [];

  beforeAll(async () => {
    mkdirSync(join(REPO, '.tmp'), { recursive: true });
    base = mkdtempSync(join(REPO, '.tmp', 'hub-work-'));
    scene = join(base, 'cube.blend');
    await buildScene(found.found!, scene);
    slowScene = join(base, 'slow.blend');
    await buildScene(found.found!, slowScene, 'scene.cycles.use_adaptive_sampling = False');
  }, 120_000);

  afterEach(async () => {
    for (const a of agents.splice(0)) await a.agent.stop();
    for (const p of procs.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) await p.stop('SIGKILL');
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    for (const h of hubs.splice(0)) await h.hub.stop();
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  async function newHub(leaseTtlMs: number, at?: { dir: string; port: number }, publicUrl?: string): Promise<Hub> {
    const dir = at?.dir ?? mkdtempSync(join(base, 'hub-'));
    const hub = await startHub({ dataDir: dir, port: at?.port ?? 0, leaseTtlMs, sweepIntervalMs: 500, log: () => {}, ...(publicUrl ? { publicUrl } : {}) });
    const h = { hub, dir, port: hub.port };
    hubs.push(h);
    return h;
  }

  async function newAgent(hubUrl: string): Promise<TestAgent> {
    const dir = mkdtempSync(join(base, 'agent-'));
    const a = await startAgent(dir, { nodeKeyScryptN: 2 ** 10, networks: NETWORK_TIMINGS, hubWork: { progressEveryMs: 200 } });
    agents.push(a);
    expect((await a.call('PATCH', '/settings', { payout: { address: PAYOUT } })).status).toBe(200);
    expect((await a.call('POST', '/networks', { url: hubUrl })).status).toBe(201);
    return a;
  }

  const addressOf = async (a: TestAgent) => (await a.agent.node.key()).address.toLowerCase();

  it('leases a 2-frame customer job, renders it, uploads the frames and completes both tasks', { timeout: 180_000 }, async () => {
    const h = await newHub(10_000);
    const job = await submit(h, scene, { start: 1, end: 2 }, 8);
    expect(job.frames).toHaveLength(2);
    const a = await newAgent(h.hub.url);
    const done = await Promise.all(job.frames.map((f) => waitTask(h, f.taskId, (t) => t.state === 'done', `task of frame ${f.frame} done`)));
    const mine = await waitForAsync(async () => {
      const js = await hubJobs(a);
      return js.filter((j) => j.state === 'succeeded').length === 2 ? js : undefined;
    }, 'both local jobs to succeed');
    const me = await addressOf(a);
    for (const t of done) {
      expect(t.leasedBy?.toLowerCase()).toBe(me);
      expect(t.attempts).toBe(1);
      const local = mine.find((j) => j.source.kind === 'hub' && j.source.taskId === t.id)!;
      expect(local, `a local job for ${t.id}`).toBeDefined();
      // The hub holds exactly the PNG this agent rendered.
      expect(t.result).toEqual({ ref: frameRef(a, local), bytes: local.result!.frames[0]!.bytes, mediaType: 'image/png' });
      expect(local.result!.frames[0]!.sha256).toBe(t.result!.ref.slice(7));
      expect(local.title).toBe(`${job.id} frame ${t.task.kind === 'render' ? t.task.frame : '?'} · ${new URL(h.hub.url).host}`);
      expect(local.source).toEqual({ kind: 'hub', network: new URL(h.hub.url).host, taskId: t.id, leaseId: expect.any(String), check: false });
    }
    expect(NetworksView.parse((await a.call('GET', '/networks')).json).leasing).toBe(true);
    // Delivered results leave nothing in the outbox; the scene came down once, into its hex name.
    await waitFor(() => readdirSync(join(a.dataDir, 'network', 'outbox')).length === 0, 'an empty outbox');
    expect(readdirSync(join(a.dataDir, 'network', 'blobs'))).toEqual([job.scene.slice('sha256:'.length)]);
  });

  it('gives back a task that names no scene, and renders nothing for it', { timeout: 60_000 }, async () => {
    const h = await newHub(10_000);
    const created = await hubCall(h, 'POST', '/v1/tasks', { tasks: [{ kind: 'render', frame: 1, settings: { engine: 'cycles', samples: 8, resolutionX: 64, resolutionY: 64 } }] });
    expect(created.status).toBe(201);
    const taskId = created.json.tasks[0].id as string;
    const a = await newAgent(h.hub.url);
    await waitTask(h, taskId, (t) => t.attempts >= 1 && t.state === 'open', 'the task to be leased and given back', 30_000);
    expect(await hubJobs(a)).toEqual([]);
  });

  it('a release by the policy gives the task back, and a second agent completes it', { timeout: 180_000 }, async () => {
    const h = await newHub(10_000);
    const job = await submit(h, slowScene, { start: 1, end: 1 }, 400);
    const taskId = job.frames[0]!.taskId;
    const first = await newAgent(h.hub.url);
    const running = await waitForAsync(async () => (await hubJobs(first)).find((j) => j.state === 'running'), 'the first agent to render', 60_000);
    expect((await task(h, taskId)).state).toBe('leased');
    const view = NetworksView.parse((await first.call('GET', '/networks')).json);
    expect(view.leasing).toBe(true);
    expect(view.hubs[0]!.working).toEqual({ taskId, title: running.title });
    await first.signals(gameStarts);
    await first.waitJob(running.id, inState('canceled'), 'the local job to be canceled after the release');
    expect(NetworksView.parse((await first.call('GET', '/networks')).json).hubs[0]!.working).toBeNull();
    await waitTask(h, taskId, (t) => t.state === 'open', 'the task to be back in the queue', 20_000);
    const second = await newAgent(h.hub.url);
    const t = await waitTask(h, taskId, (x) => x.state === 'done', 'the second agent to complete the task', 120_000);
    expect(t.leasedBy?.toLowerCase()).toBe(await addressOf(second));
    expect(t.attempts).toBe(2);
    const theirs = (await hubJobs(second)).find((j) => j.state === 'succeeded')!;
    expect(t.result?.ref).toBe(frameRef(second, theirs));
    // The first agent took nothing more while the game ran.
    expect((await hubJobs(first)).map((j) => j.state)).toEqual(['canceled']);
    await first.signals(gameEnds);
  });

  it('under drain the lease is kept and renewed, and the job finishes', { timeout: 180_000 }, async () => {
    // A lease shorter than the render: it survives only by being renewed.
    const h = await newHub(3_000);
    const job = await submit(h, slowScene, { start: 1, end: 1 }, 1500);
    const taskId = job.frames[0]!.taskId;
    const a = await newAgent(h.hub.url);
    const running = await waitForAsync(async () => (await hubJobs(a)).find((j) => j.state === 'running'), 'the agent to render', 60_000);
    // Progress reaches the hub while it renders.
    await waitTask(h, taskId, (x) => x.state === 'leased' && (x.progress ?? 0) > 0, 'progress at the hub', 60_000);
    expect((await a.call('POST', '/sharing', { mode: 'drain' })).status).toBe(200);
    await waitForAsync(async () => !NetworksView.parse((await a.call('GET', '/networks')).json).leasing, 'leasing to stop under drain');
    // Renewed under drain: the hub's deadline moves on while the job still runs.
    const before = Date.parse((await task(h, taskId)).deadline!);
    await waitTask(h, taskId, (x) => x.state === 'leased' && Date.parse(x.deadline!) > before, 'a renewal under drain', 20_000);
    expect(['running', 'succeeded']).toContain((await a.job(running.id)).state);
    const done = await a.waitJob(running.id, inState('succeeded', 'failed', 'canceled'), 'the drained job to finish', 120_000);
    expect(done.state, JSON.stringify(done.failure)).toBe('succeeded');
    const t = await waitTask(h, taskId, (x) => x.state === 'done', 'the task to be done');
    expect(t.attempts).toBe(1);
    expect(t.result?.ref).toBe(frameRef(a, done));
    expect(await hubJobs(a)).toHaveLength(1);
    expect((await a.call('POST', '/sharing', { mode: 'on' })).status).toBe(200);
  });

  it('an upload cut off halfway (the hub stopped mid-PUT) resumes from the hub\'s offset and completes once', { timeout: 180_000 }, async () => {
    // The agent talks to the hub through a proxy that lets half of the first result upload through,
    // then stops the hub while the PUT is in flight and starts it again on the same data dir.
    const puts: Array<{ offset: number; length: number }> = [];
    let cut: Promise<void> | null = null;
    const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url!, 'http://proxy');
      const isResult = req.method === 'PUT' && url.pathname.startsWith('/v1/blobs/');
      if (isResult) puts.push({ offset: Number(url.searchParams.get('offset')), length: Number(url.searchParams.get('length')) });
      const up = request({ host: '127.0.0.1', port: h.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      up.on('error', () => res.destroy());
      if (!(isResult && puts.length === 1)) {
        req.pipe(up);
        return;
      }
      const half = Math.floor(Number(url.searchParams.get('length')) / 2);
      let sent = 0;
      req.on('data', (chunk: Buffer) => {
        if (sent >= half) return;
        const part = chunk.subarray(0, half - sent);
        sent += part.length;
        up.write(part);
        if (sent >= half && !cut) {
          const old = h;
          cut = (async () => {
            // Let the hub write the half it got, then take it down mid-request and bring it back.
            await new Promise((r) => setTimeout(r, 300));
            hubs.splice(hubs.indexOf(old), 1);
            await old.hub.stop();
            res.destroy();
            h = await newHub(30_000, { dir: old.dir, port: old.port }, proxyUrl);
          })();
        }
      });
    });
    servers.push(proxy);
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    // Sign-in challenges name the hub as the agent knows it: the proxy.
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    let h = await newHub(30_000, undefined, proxyUrl);
    const job = await submit(h, scene, { start: 1, end: 1 }, 8);
    const taskId = job.frames[0]!.taskId;
    const a = await newAgent(proxyUrl);
    await waitFor(() => cut, 'the upload to be cut off', 90_000);
    await cut;
    const t = await waitTask(h, taskId, (x) => x.state === 'done', 'the task to be done after the restart');
    const local = await waitForAsync(async () => (await hubJobs(a)).find((j) => j.state === 'succeeded'), 'the local job');
    expect(t.result?.ref).toBe(frameRef(a, local));
    expect(t.attempts).toBe(1);
    // The second PUT went on from where the hub's copy ended, not from zero.
    expect(puts.length).toBeGreaterThanOrEqual(2);
    expect(puts[0]!.offset).toBe(0);
    const resumed = puts.slice(1).find((p) => p.offset > 0);
    expect(resumed, JSON.stringify(puts)).toBeDefined();
    expect(resumed!.offset).toBeLessThanOrEqual(Math.floor(puts[0]!.length / 2));
    expect(puts.slice(1).every((p) => p.offset > 0)).toBe(true);
    await waitFor(() => readdirSync(join(a.dataDir, 'network', 'outbox')).length === 0, 'an empty outbox');
    // Exactly once: the outbox journal holds one add and one delivery for this job.
    const lines = readFileSync(join(a.dataDir, 'network', 'outbox.jsonl'), 'utf8').trim().split('\n');
    expect(lines.filter((l) => l.includes('"type":"add"'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('"type":"delivered"'))).toHaveLength(1);
  });

  it('an agent killed with -9 mid-job: its lease expires and a second agent completes the task', { timeout: 180_000 }, async () => {
    const h = await newHub(3_000);
    const job = await submit(h, slowScene, { start: 1, end: 1 }, 3000);
    const taskId = job.frames[0]!.taskId;
    const dataDir = mkdtempSync(join(base, 'agent-cli-'));
    const proc = await startAgentProcess(dataDir, ['--sensors', 'off']);
    procs.push(proc);
    const call = (method: string, path: string, body?: unknown) => api(proc.origin, proc.token, method, path, body);
    await call('PATCH', '/settings', { consent: { accepted: true, version: 1 }, policy: { ...defaultPolicy(), quietPeriodMinutes: 0 }, payout: { address: PAYOUT } });
    await call('POST', '/sharing', { mode: 'on' });
    await call('POST', '/signals', calm);
    expect((await call('POST', '/networks', { url: h.hub.url })).status).toBe(201);
    await waitFor(() => registry(dataDir).some((e) => e.kind === 'engine'), 'the first agent to start rendering', 90_000);
    expect((await task(h, taskId)).state).toBe('leased');
    await proc.stop('SIGKILL');
    const second = await newAgent(h.hub.url);
    const t = await waitTask(h, taskId, (x) => x.state === 'done', 'the second agent to complete the task', 150_000);
    expect(t.leasedBy?.toLowerCase()).toBe(await addressOf(second));
    expect(t.attempts).toBe(2);
    const theirs = (await hubJobs(second)).find((j) => j.state === 'succeeded')!;
    expect(t.result?.ref).toBe(frameRef(second, theirs));
    // The killed agent, started again, does not run the job it left: it is canceled.
    const again = await startAgent(dataDir, { networks: NETWORK_TIMINGS });
    agents.push(again);
    const left = await hubJobs(again);
    expect(left.map((j) => j.state)).toEqual(['canceled']);
    expect(registry(dataDir).filter((e) => e.kind === 'engine')).toEqual([]);
  });

  it('a lease the hub takes back (heartbeat) cancels the local job; the task is leased again and done once', { timeout: 180_000 }, async () => {
    const h = await newHub(30_000);
    const job = await submit(h, slowScene, { start: 1, end: 1 }, 400);
    const taskId = job.frames[0]!.taskId;
    const a = await newAgent(h.hub.url);
    const running = await waitForAsync(async () => (await hubJobs(a)).find((j) => j.state === 'running'), 'the agent to render', 60_000);
    // The hub expires the lease (as after a missed renewal): the next heartbeat names it revoked.
    await h.hub.db.query('update tasks set lease_expires_ms = 1 where id = $1', [taskId]);
    await a.waitJob(running.id, inState('canceled'), 'the local job to be canceled');
    const t = await waitTask(h, taskId, (x) => x.state === 'done', 'the task to be leased again and done');
    expect(t.attempts).toBe(2);
    const js = await hubJobs(a);
    expect(js.map((j) => j.state).sort()).toEqual(['canceled', 'succeeded']);
    expect(t.result?.ref).toBe(frameRef(a, js.find((j) => j.state === 'succeeded')!));
  });
});
