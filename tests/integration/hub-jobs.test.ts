// Customer render jobs on the hub over real loopback HTTP, on a real PGlite directory and on a real
// Postgres server: resumable content-addressed blobs, job submission, and verification of results
// by two signed-in nodes, one checking the other. The frames are real Blender renders (the factory
// cube, 64x64, cached under .tmp/ once rendered) when Blender is installed, else synthetic
// images with the same character (a smooth picture, and seeded noise for another device). Each
// cheat a provider might try is refused and lands in the frame's failures, the node's reputation
// and the job's blocks, and a test credit sink shows exactly one credit per verified result.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BlobStatus,
  HeartbeatResponse,
  HubErrorBody,
  HubJobList,
  HubJobView,
  HubStatusView,
  LeaseResponse,
  Session,
  SignInChallenge,
  signInMessage,
  type Lease,
  type RegisterNodeRequest,
  type SubmitRenderJob,
} from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/hub.js';
import type { CreditSink } from '../../hub/credit-sink.js';
import { blender, REPO, run } from '../support/blender.js';
import { requireProgram } from '../support/external.js';
import { hubCall } from '../support/hub-api.js';
import { findPostgres, startPostgres, type PostgresServer } from '../support/postgres.js';

const skew = { ms: 0 };
const clock = { now: () => Date.now() + skew.ms };
const MAX_BLOB = 4 * 1024 * 1024;

const postgresFound = findPostgres();
const postgresEnabled = requireProgram(postgresFound, 'hub jobs on a Postgres server');
let pgServer: Promise<PostgresServer> | undefined;
afterAll(async () => {
  await (await pgServer?.catch(() => undefined))?.stop();
});
const BACKENDS = (['pglite', 'postgres'] as const).filter((b) => b === 'pglite' || postgresEnabled);

// --- Frames ----------------------------------------------------------------------------------------

interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}
const decode = (b: Buffer): Rgba => {
  const p = PNG.sync.read(b);
  return { width: p.width, height: p.height, data: p.data };
};
const encode = (img: Rgba): Buffer => {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data);
  return PNG.sync.write(png);
};
const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** What the tests hand in: an honest frame, another device's render of it, and the cheats' raw material. */
interface Frames {
  source: 'blender' | 'synthetic';
  honest: Rgba;
  /** The same frame from another seed: what another GPU's noise looks like. */
  otherDevice: Rgba;
  /** 1 sample at half resolution, scaled up to full size. */
  lowUpscaled: Rgba;
}

const W = 64;
const H = 64;
const SETTINGS = { engine: 'cycles' as const, samples: 8, resolutionX: W, resolutionY: H };

function upscale(img: Rgba): Rgba {
  const w = img.width * 2;
  const h = img.height * 2;
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(img.data.subarray(((y >> 1) * img.width + (x >> 1)) * 4, ((y >> 1) * img.width + (x >> 1)) * 4 + 4), (y * w + x) * 4);
  return { width: w, height: h, data };
}

const RENDER_PY = `
import bpy, os
out = os.environ['OFFHOURS_OUT']
scene = bpy.context.scene
scene.render.engine = 'CYCLES'
scene.cycles.use_denoising = False
scene.cycles.device = 'CPU'
scene.render.resolution_percentage = 100
scene.render.image_settings.file_format = 'PNG'
for name, samples, size, seed in (('honest', 8, 64, 0), ('other', 8, 64, 5), ('low', 1, 32, 0)):
    scene.cycles.samples = samples
    scene.cycles.seed = seed
    scene.render.resolution_x = size
    scene.render.resolution_y = size
    scene.render.filepath = os.path.join(out, name + '.png')
    bpy.ops.render.render(write_still=True)
`;

async function makeFrames(): Promise<Frames> {
  const b = blender();
  // OFFHOURS_SYNTHETIC_FRAMES=1 runs the synthetic twins even where Blender is installed.
  if (b.found && process.env.OFFHOURS_SYNTHETIC_FRAMES !== '1') {
    const dir = join(REPO, '.tmp', 'hub-jobs-renders', createHash('sha256').update(RENDER_PY).digest('hex').slice(0, 12));
    const names = ['honest.png', 'other.png', 'low.png'];
    if (!names.every((n) => existsSync(join(dir, n)))) {
      mkdirSync(dir, { recursive: true });
      const r = await run(b.found, ['-b', '--factory-startup', '--disable-autoexec', '--python-exit-code', '1', '--python-expr', RENDER_PY], { env: { ...process.env, OFFHOURS_OUT: dir } });
      if (r.code !== 0) throw new Error(`blender failed (${r.code}): ${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    }
    const [honest, other, low] = names.map((n) => decode(readFileSync(join(dir, n))));
    return { source: 'blender', honest: honest!, otherDevice: other!, lowUpscaled: upscale(low!) };
  }
  process.stderr.write(`\n[synthetic frames] ${b.reason || 'OFFHOURS_SYNTHETIC_FRAMES=1'}\n`);
  // A smooth picture with a lit disc; "noise" of a few levels per channel, as between two devices.
  const picture = (noise: number, seed: number, size = 64): Rgba => {
    const rnd = lcg(seed);
    const data = new Uint8Array(size * size * 4);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const disc = (x - size / 2) ** 2 + (y - size / 2) ** 2 < (size / 4) ** 2 ? 110 : 0;
        const n = () => (rnd() * 2 - 1) * noise;
        data.set([clamp((x * 180) / size + disc + n()), clamp((y * 160) / size + disc / 2 + n()), clamp(50 + disc + n()), 255], (y * size + x) * 4);
      }
    }
    return { width: size, height: size, data };
  };
  return { source: 'synthetic', honest: picture(2, 1), otherDevice: picture(2, 2), lowUpscaled: upscale(picture(40, 3, 32)) };
}

/**
 * Blender's own render of just the check's region (border on, not cropped: a full-size frame,
 * black outside), on another seed; null without Blender. Proves the hub compares the very pixels
 * Blender renders for a border.
 */
async function blenderRegion(region: { minX: number; minY: number; maxX: number; maxY: number }): Promise<Buffer | null> {
  const b = blender();
  if (!b.found || frames.source !== 'blender') return null;
  const dir = mkdtempSync(join(REPO, '.tmp', 'hub-jobs-region-'));
  try {
    const py = `
import bpy, os
scene = bpy.context.scene
scene.render.engine = 'CYCLES'
scene.cycles.use_denoising = False
scene.cycles.device = 'CPU'
scene.cycles.samples = 8
scene.cycles.seed = 5
scene.render.resolution_x = ${W}
scene.render.resolution_y = ${H}
scene.render.resolution_percentage = 100
scene.render.image_settings.file_format = 'PNG'
scene.render.use_border = True
scene.render.use_crop_to_border = False
scene.render.border_min_x = ${region.minX}
scene.render.border_max_x = ${region.maxX}
scene.render.border_min_y = ${region.minY}
scene.render.border_max_y = ${region.maxY}
scene.render.filepath = os.path.join(${JSON.stringify(dir)}, 'region.png')
bpy.ops.render.render(write_still=True)
`;
    const r = await run(b.found, ['-b', '--factory-startup', '--disable-autoexec', '--python-exit-code', '1', '--python-expr', py]);
    if (r.code !== 0) throw new Error(`blender failed (${r.code}): ${r.stdout.slice(-2000)}`);
    return readFileSync(join(dir, 'region.png'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let frames: Frames;
let variantCounter = 0;
/** The frame with one pixel nudged by one level: the same picture, bytes no other test hands in. */
function variant(img: Rgba): Buffer {
  const data = Uint8Array.from(img.data);
  const n = ++variantCounter;
  const i = ((n % W) + W * (Math.floor(n / W) % H)) * 4;
  data[i] = data[i]! < 128 ? data[i]! + 1 : data[i]! - 1;
  return encode({ ...img, data });
}
function altered(img: Rgba): Rgba {
  const data = Uint8Array.from(img.data);
  for (let y = 24; y < 40; y++) for (let x = 24; x < 40; x++) data.set([255 - data[(y * W + x) * 4]!, 20, 200, 255], (y * W + x) * 4);
  return { ...img, data };
}

// --- The hub and its clients -------------------------------------------------------------------------

type Credit = Parameters<CreditSink['credit']>[1];
const credits: Credit[] = [];
const sink: CreditSink = {
  async credit(tx, c) {
    // Inside the verifying transaction: the task it credits already reads as verified there.
    const { rows } = await tx.query<{ verify_state: string }>('select verify_state from tasks where id = $1', [c.taskId]);
    expect(rows[0]?.verify_state).toBe('verified');
    credits.push(c);
  },
};

let hub: RunningHub;
let dataDir: string;

const call = (method: string, path: string, body?: unknown, token?: string) => hubCall(hub.url, method, path, body, token);

async function put(token: string, hex: string, offset: number, length: number, body: Buffer, type = 'application/octet-stream'): Promise<{ status: number; json: any }> {
  const res = await fetch(`${hub.url}/v1/blobs/${hex}?offset=${offset}&length=${length}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: new Uint8Array(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function upload(token: string, bytes: Buffer): Promise<string> {
  const hex = sha(bytes);
  const r = await put(token, hex, 0, bytes.length, bytes);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  expect(BlobStatus.parse(r.json)).toEqual({ ref: `sha256:${hex}`, received: bytes.length, complete: true });
  return `sha256:${hex}`;
}

const newKey = () => new Wallet(`0x${randomBytes(32).toString('hex')}`);
const registration = (): RegisterNodeRequest => ({
  payoutAddress: newKey().address,
  capabilities: {
    devices: [{ id: 'gpu:0', kind: 'gpu', name: 'Test GPU', cyclesBackend: 'optix', benchmarkSamplesPerS: 1000 }],
    engines: [{ name: 'blender', version: '4.2.3' }],
    diskOfferedBytes: 0,
    priceFloor: { token: 'USDC', renderPerBenchmarkMinute: '1', storagePerGiBDay: '0' },
  },
});

interface Node {
  address: string;
  token: string;
}
async function node(): Promise<Node> {
  const key = newKey();
  const c = SignInChallenge.parse((await call('POST', '/v1/auth/challenge', { address: key.address })).json);
  const s = await call('POST', '/v1/auth/sign-in', { address: key.address, nonce: c.nonce, signature: await key.signMessage(signInMessage(c)) });
  const token = Session.parse(s.json).token;
  expect((await call('POST', '/v1/nodes', registration(), token)).status).toBe(200);
  return { address: key.address.toLowerCase(), token };
}

async function lease(n: Node): Promise<Lease | null> {
  const r = await call('POST', '/v1/leases', { kinds: ['render'], device: 'gpu:0' }, n.token);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return LeaseResponse.parse(r.json).lease;
}

/** Uploads the frame and completes the lease with it. */
async function handIn(n: Node, l: Lease, png: Buffer): Promise<{ status: number; json: any }> {
  const ref = await upload(n.token, png);
  return call('POST', `/v1/leases/${l.leaseId}/complete`, { result: { ref, bytes: png.length, mediaType: 'image/png' } }, n.token);
}

/** A check's result: the other device's frame, black outside the region (as Blender leaves it). */
function checkRender(l: Lease, img: Rgba = frames.otherDevice): Buffer {
  const r = l.task.region!;
  const x0 = Math.round(r.minX * W);
  const x1 = Math.round(r.maxX * W);
  const y0 = H - Math.round(r.maxY * H);
  const y1 = H - Math.round(r.minY * H);
  const data = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (x >= x0 && x < x1 && y >= y0 && y < y1) data.set(img.data.subarray((y * W + x) * 4, (y * W + x) * 4 + 4), (y * W + x) * 4);
  return variant({ width: W, height: H, data });
}

async function submit(frames: { start: number; end: number }, extra: Partial<SubmitRenderJob> = {}): Promise<HubJobView> {
  const scene = await upload(hub.customerKey, randomBytes(2048));
  const r = await call('POST', '/v1/jobs', { kind: 'render', name: 'test job', scene, frames, settings: SETTINGS, ...extra }, hub.customerKey);
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return HubJobView.parse(r.json);
}

const job = async (id: string) => HubJobView.parse((await call('GET', `/v1/jobs/${id}`, undefined, hub.customerKey)).json);
const reputation = async (n: Node) => HeartbeatResponse.parse((await call('POST', '/v1/nodes/heartbeat', { availability: [] }, n.token)).json).reputation!;

/** No open or leased task left from an earlier test, so each test leases only what it created. */
async function emptyQueue(): Promise<void> {
  await hub.db.query("update tasks set state = 'done', lease_expires_ms = null, verify_state = case when job_id is null then null else 'cancelled' end where state <> 'done'");
}

/** Every table the hub writes and every file in its blob store. */
async function snapshot(): Promise<string> {
  const parts: unknown[] = [];
  for (const t of ['nodes', 'tasks', 'jobs', 'verification_failures', 'job_blocks', 'sessions']) parts.push((await hub.db.query(`select * from ${t} order by 1`)).rows);
  const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)).map((f) => `${e.name}/${f}`) : [e.name]));
  parts.push(files(join(dataDir, 'blobs')).sort());
  return JSON.stringify(parts);
}

beforeAll(async () => {
  frames = await makeFrames();
}, 120_000);

describe.each(BACKENDS)('hub jobs on %s', (backend) => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhours-hub-jobs-'));
    const databaseUrl = backend === 'postgres' ? (await (pgServer ??= startPostgres(postgresFound))).url : '';
    hub = await startHub({
      dataDir,
      databaseUrl,
      port: 0,
      clock,
      log: (l) => { if (process.env.HUB_TEST_LOG) process.stderr.write(`${l}\n`); },
      sweepIntervalMs: 3_600_000,
      maxBlobBytes: MAX_BLOB,
      credits: sink,
      // Every result checked, over the whole frame: the cheats that touch one corner are caught.
      verify: { checkFraction: 1, cropArea: 1 },
    });
  }, 120_000);
  afterAll(async () => {
    await hub?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await emptyQueue();
    credits.length = 0;
  });

  describe('blobs', () => {
    it('an upload interrupted halfway (the client stops sending) resumes from the offset the hub reports, byte-exact', async () => {
      const n = await node();
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const hex = sha(bytes);
      const half = Math.floor(bytes.length / 2);
      // Declares the whole length, sends half, then goes away.
      await new Promise<void>((resolve) => {
        const req = request(`${hub.url}/v1/blobs/${hex}?offset=0&length=${bytes.length}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${n.token}`, 'content-type': 'application/octet-stream', 'content-length': bytes.length },
        });
        req.on('error', () => resolve());
        req.write(bytes.subarray(0, half), async () => {
          // Wait until the hub has the half on disk, then hang up.
          for (;;) {
            const s = BlobStatus.parse((await call('GET', `/v1/blobs/${hex}/status`, undefined, n.token)).json);
            if (s.received === half) break;
            await new Promise((r) => setTimeout(r, 20));
          }
          req.destroy();
          resolve();
        });
      });
      // Resume from what the hub reports; while it still winds up the dead request, it says so (409).
      let status: BlobStatus;
      for (;;) {
        status = BlobStatus.parse((await call('GET', `/v1/blobs/${hex}/status`, undefined, n.token)).json);
        expect(status.complete).toBe(false);
        const r = await put(n.token, hex, status.received, bytes.length, bytes.subarray(status.received));
        if (r.status === 200) {
          expect(r.json).toEqual({ ref: `sha256:${hex}`, received: bytes.length, complete: true });
          break;
        }
        expect(r.status).toBe(409);
        await new Promise((res) => setTimeout(res, 20));
      }
      expect(status.received).toBe(half);
      const whole = await fetch(`${hub.url}/v1/blobs/${hex}`, { headers: { authorization: `Bearer ${hub.customerKey}` } });
      expect(whole.status).toBe(200);
      expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
      // A download resumes too.
      const rest = await fetch(`${hub.url}/v1/blobs/${hex}`, { headers: { authorization: `Bearer ${n.token}`, range: `bytes=${half}-` } });
      expect(rest.status).toBe(206);
      expect(rest.headers.get('content-range')).toBe(`bytes ${half}-${bytes.length - 1}/${bytes.length}`);
      expect(Buffer.from(await rest.arrayBuffer()).equals(bytes.subarray(half))).toBe(true);
      // Complete now: a second upload is not needed, and answered at once.
      expect((await put(hub.customerKey, hex, 0, bytes.length, Buffer.alloc(0))).json).toEqual({ ref: `sha256:${hex}`, received: bytes.length, complete: true });
      expect(readdirSync(join(dataDir, 'blobs', 'partial')).filter((f) => f.endsWith(hex))).toEqual([]);
    });

    it('keeps each uploader apart, wants the offset the hub holds, and keeps nothing whose digest does not match', async () => {
      const a = await node();
      const b = await node();
      const bytes = randomBytes(10_000);
      const hex = sha(bytes);
      expect((await put(a.token, hex, 0, bytes.length, bytes.subarray(0, 4000))).json.received).toBe(4000);
      expect((await call('GET', `/v1/blobs/${hex}/status`, undefined, b.token)).json.received).toBe(0);
      const wrongOffset = await put(a.token, hex, 3000, bytes.length, bytes.subarray(3000));
      expect(wrongOffset.status).toBe(409);
      expect(wrongOffset.json.error.code).toBe('upload_offset');
      expect(wrongOffset.json.error.message).toContain('4000');
      expect((await call('GET', `/v1/blobs/${hex}`, undefined, a.token)).status).toBe(404);

      // The last piece is not what was named: the whole upload is discarded.
      const bad = await put(a.token, hex, 4000, bytes.length, randomBytes(6000));
      expect(bad.status).toBe(422);
      expect(HubErrorBody.parse(bad.json).error.code).toBe('digest_mismatch');
      expect((await call('GET', `/v1/blobs/${hex}/status`, undefined, a.token)).json).toEqual({ ref: `sha256:${hex}`, received: 0, complete: false });
      expect(readdirSync(join(dataDir, 'blobs', 'partial')).filter((f) => f.endsWith(hex))).toEqual([]);
      expect(existsSync(join(dataDir, 'blobs', hex))).toBe(false);
    });

    it('refuses path-like and invalid names, bad queries, oversize and strangers, and writes nothing', async () => {
      const n = await node();
      const bytes = randomBytes(100);
      const hex = sha(bytes);
      const before = await snapshot();
      const octet = { 'content-type': 'application/octet-stream' };
      const asNode = { ...octet, authorization: `Bearer ${n.token}` };
      const cases: [string, string, Record<string, string>, Buffer | undefined, number][] = [
        ['GET', '/v1/blobs/..%2F..%2Fetc%2Fpasswd', asNode, undefined, 400],
        ['GET', '/v1/blobs/../../etc/passwd', asNode, undefined, 404],
        ['PUT', `/v1/blobs/..%2Fpartial%2F${hex}?offset=0&length=100`, asNode, bytes, 400],
        ['PUT', `/v1/blobs/${hex.toUpperCase()}?offset=0&length=100`, asNode, bytes, 400],
        ['PUT', `/v1/blobs/${hex.slice(1)}?offset=0&length=100`, asNode, bytes, 400],
        ['PUT', `/v1/blobs/${hex}%00?offset=0&length=100`, asNode, bytes, 400],
        ['GET', `/v1/blobs/${hex}x/status`, asNode, undefined, 400],
        ['PUT', `/v1/blobs/${hex}?offset=0&length=100`, { ...octet }, bytes, 401],
        ['PUT', `/v1/blobs/${hex}?offset=0&length=100`, { ...octet, authorization: 'Bearer not-a-session-token-at-all' }, bytes, 401],
        ['PUT', `/v1/blobs/${hex}?offset=0&length=100`, { ...asNode, 'content-type': 'application/json' }, bytes, 415],
        ['PUT', `/v1/blobs/${hex}?offset=0`, asNode, bytes, 400],
        ['PUT', `/v1/blobs/${hex}?offset=-1&length=100`, asNode, bytes, 400],
        ['PUT', `/v1/blobs/${hex}?offset=0&length=1e2`, asNode, bytes, 400],
        ['PUT', `/v1/blobs/${hex}?offset=0&length=100&length=100`, asNode, bytes, 400],
        ['PUT', `/v1/blobs/${hex}?offset=0&length=100&x=1`, asNode, bytes, 400],
        ['PUT', `/v1/blobs/${hex}?offset=5&length=100`, asNode, bytes.subarray(5), 409],
        ['PUT', `/v1/blobs/${hex}?offset=0&length=50`, asNode, bytes, 400],
        ['PUT', `/v1/blobs/${hex}?offset=0&length=${MAX_BLOB + 1}`, asNode, bytes, 413],
        ['DELETE', `/v1/blobs/${hex}`, asNode, undefined, 405],
        ['POST', `/v1/blobs/${hex}/status`, asNode, undefined, 405],
        ['GET', `/v1/blobs/${hex}`, asNode, undefined, 404],
      ];
      for (const [method, path, headers, body, status] of cases) {
        const res = await fetch(`${hub.url}${path}`, { method, headers, ...(body ? { body: new Uint8Array(body) } : {}) });
        const text = await res.text();
        expect.soft(res.status, `${method} ${path}: ${text}`).toBe(status);
        expect.soft(HubErrorBody.safeParse(JSON.parse(text)).success, `${method} ${path}: ${text}`).toBe(true);
      }
      expect(await snapshot()).toBe(before);
    });

    it('are in the OpenAPI document', async () => {
      const doc = (await call('GET', '/v1/openapi.json')).json;
      expect(doc.paths['/v1/blobs/{hex}'].put.requestBody.content['application/octet-stream']).toBeTruthy();
      expect(doc.paths['/v1/blobs/{hex}'].get.responses['206']).toBeTruthy();
      expect(doc.paths['/v1/blobs/{hex}/status'].get.responses['200']).toBeTruthy();
      expect(doc.paths['/v1/jobs'].post.requestBody.content['application/json'].schema.properties.scene).toBeTruthy();
      expect(doc.paths['/v1/jobs/{jobId}'].get).toBeTruthy();
      expect(doc.paths['/v1/status'].get).toBeTruthy();
    });
  });

  describe('jobs', () => {
    it('wants the scene uploaded first, then makes one task per frame that names the scene and the pay', async () => {
      const missing = await call(
        'POST',
        '/v1/jobs',
        { kind: 'render', name: 'x', scene: `sha256:${'ab'.repeat(32)}`, frames: { start: 1, end: 2 }, settings: SETTINGS },
        hub.customerKey,
      );
      expect(missing.status).toBe(409);
      expect(missing.json.error.message).toContain('upload it to /v1/blobs first');
      const n = await node();
      expect((await call('POST', '/v1/jobs', { kind: 'render', name: 'x', scene: `sha256:${'ab'.repeat(32)}`, frames: { start: 1, end: 2 }, settings: SETTINGS }, n.token)).status).toBe(401);

      const j = await submit({ start: 3, end: 5 }, { pricePerFrame: '777' });
      expect(j).toMatchObject({ state: 'running', pricePerFrame: '777', counts: { total: 3, verified: 0, failed: 0 }, finishedAt: null });
      expect(j.frames.map((f) => [f.frame, f.state, f.failures])).toEqual([
        [3, 'open', []],
        [4, 'open', []],
        [5, 'open', []],
      ]);
      const l = (await lease(n))!;
      expect(l.taskId).toBe(j.frames[0]!.taskId);
      expect(l.task).toEqual({ kind: 'render', frame: 3, settings: SETTINGS, job: { id: j.id, scene: j.scene, sceneBytes: 2048, pay: '777' } });
      const def = await submit({ start: 1, end: 1 });
      expect(def.pricePerFrame).toBe('10000');
      const list = HubJobList.parse((await call('GET', '/v1/jobs', undefined, hub.customerKey)).json);
      expect(list.jobs.map((x) => x.id)).toEqual(expect.arrayContaining([j.id, def.id]));
      expect((await call('GET', '/v1/jobs/j_nosuchjob', undefined, hub.customerKey)).status).toBe(404);
      expect((await call('GET', '/v1/jobs/..%2Fx', undefined, hub.customerKey)).status).toBe(400);
    });
    it('a cancel withdraws the frames not handed in: a holder learns it at its next heartbeat; a frame handed in is still verified and paid', async () => {
      await emptyQueue();
      const a = await node();
      const b = await node();
      const j = await submit({ start: 1, end: 3 });
      const la = (await lease(a))!;
      const lb = (await lease(b))!;
      // b hands its frame in before the cancel; a is still rendering when it comes.
      expect((await handIn(b, lb, variant(frames.honest))).status).toBe(200);
      const before = credits.length;
      const canceled = await call('POST', `/v1/jobs/${j.id}/cancel`, {}, hub.customerKey);
      expect(canceled.status, JSON.stringify(canceled.json)).toBe(200);
      const view = HubJobView.parse(canceled.json);
      expect(view.state).toBe('canceled');
      const byTask = new Map(view.frames.map((f) => [f.taskId, f.state]));
      expect(byTask.get(la.taskId)).toBe('canceled');
      expect(byTask.get(lb.taskId)).not.toBe('canceled');
      expect(view.frames.filter((f) => f.state === 'canceled')).toHaveLength(2);
      // The holder of a withdrawn frame is told at its next heartbeat, and cannot hand it in.
      const hb = HeartbeatResponse.parse((await call('POST', '/v1/nodes/heartbeat', { availability: [], leases: [la.leaseId] }, a.token)).json);
      expect(hb.revokedLeases).toEqual([la.leaseId]);
      expect((await handIn(a, la, variant(frames.honest))).status).toBe(409);
      // Nothing more of the job is handed out, except the check of the frame handed in.
      const next = await lease(a);
      expect(next === null || next.task.verifies === lb.taskId).toBe(true);
      // Again: harmless. Unknown: 404. Other credentials: 401.
      expect((await call('POST', `/v1/jobs/${j.id}/cancel`, {}, hub.customerKey)).status).toBe(200);
      expect((await call('POST', '/v1/jobs/j_nosuchjob/cancel', {}, hub.customerKey)).status).toBe(404);
      expect((await call('POST', `/v1/jobs/${j.id}/cancel`, {}, a.token)).status).toBe(401);
      // The frame handed in before the cancel goes through its check and is paid as usual.
      if (next) {
        expect((await handIn(a, next, checkRender(next))).status).toBe(200);
        expect(credits.length).toBeGreaterThan(before);
        expect((await job(j.id)).frames.find((f) => f.taskId === lb.taskId)!.state).toBe('verified');
      }
      // A finished job cannot be cancelled.
      const done = await submit({ start: 1, end: 1 });
      await hub.db.query("update jobs set state = 'done' where id = $1", [done.id]);
      expect((await call('POST', `/v1/jobs/${done.id}/cancel`, {}, hub.customerKey)).status).toBe(409);
    });
  });

  describe('verification', () => {
    it('a result is checked by the other node, verified, and both are credited once; the job is done', async () => {
      const j = await submit({ start: 1, end: 1 });
      const a = await node();
      const b = await node();
      const l = (await lease(a))!;
      // Complete before uploading: refused, the lease stays live.
      const png = variant(frames.honest);
      const early = await call('POST', `/v1/leases/${l.leaseId}/complete`, { result: { ref: `sha256:${sha(png)}`, bytes: png.length } }, a.token);
      expect(early.status).toBe(409);
      expect(early.json.error.message).toContain('upload the result to /v1/blobs first');
      const done = await handIn(a, l, png);
      expect(done.status, JSON.stringify(done.json)).toBe(200);
      expect((await job(j.id)).frames[0]).toMatchObject({ state: 'checking', provider: a.address, result: null });

      // The check never goes back to the provider it checks.
      expect(await lease(a)).toBeNull();
      const check = (await lease(b))!;
      expect(check.task).toMatchObject({ frame: 1, verifies: l.taskId, region: { minX: 0, minY: 0, maxX: 1, maxY: 1 }, job: { id: j.id, pay: '10000' } });
      expect(credits).toEqual([]);
      expect((await handIn(b, check, checkRender(check))).status).toBe(200);

      const after = await job(j.id);
      expect(after).toMatchObject({ state: 'done', counts: { total: 1, verified: 1, failed: 0 } });
      expect(after.frames[0]).toMatchObject({ state: 'verified', provider: a.address, result: `sha256:${sha(png)}`, failures: [] });
      expect(after.finishedAt).not.toBeNull();
      expect(credits).toEqual([
        { node: a.address, kind: 'render', taskId: l.taskId, jobId: j.id, amount: '10000', device: 'gpu:0' },
        { node: b.address, kind: 'check', taskId: check.taskId, jobId: j.id, amount: '10000', device: 'gpu:0' },
      ]);
      expect(await reputation(a)).toEqual({ score: 2 / 3, passed: 1, failed: 0 });
      expect(await reputation(b)).toEqual({ score: 2 / 3, passed: 1, failed: 0 });
      // A repeated complete (its answer lost) is harmless and credits nothing more.
      expect((await call('POST', `/v1/leases/${check.leaseId}/complete`, { result: { ref: `sha256:${sha(checkRender(check))}`, bytes: 1 } }, b.token)).status).toBeGreaterThanOrEqual(400);
      expect(credits).toHaveLength(2);
      const status = HubStatusView.parse((await call('GET', '/v1/status', undefined, hub.customerKey)).json);
      expect(status.jobs.done).toBeGreaterThanOrEqual(1);
      expect(status.payments).toBeNull();
      expect(status.providers).toBeGreaterThanOrEqual(2);
    });

    it('a check over part of the frame pays its share of the frame, rounded up', async () => {
      // A second hub on its own directory, checking a quarter of each frame.
      const dir = mkdtempSync(join(tmpdir(), 'offhours-hub-jobs-crop-'));
      const saved = { hub, dataDir };
      try {
        hub = await startHub({ dataDir: dir, databaseUrl: '', port: 0, clock, log: () => {}, credits: sink, verify: { checkFraction: 1, cropArea: 0.25 } });
        dataDir = dir;
        const j = await submit({ start: 1, end: 1 }, { pricePerFrame: '1001' });
        const a = await node();
        const b = await node();
        const l = (await lease(a))!;
        expect((await handIn(a, l, variant(frames.honest))).status).toBe(200);
        const check = (await lease(b))!;
        const r = check.task.region!;
        expect((r.maxX - r.minX) * (r.maxY - r.minY)).toBeCloseTo(0.25, 5);
        expect(check.task.job!.pay).toBe('251');
        const rendered = (await blenderRegion(r)) ?? checkRender(check);
        expect((await handIn(b, check, rendered)).status).toBe(200);
        expect((await job(j.id)).state).toBe('done');
        expect(credits.map((c) => [c.kind, c.amount])).toEqual([
          ['render', '1001'],
          ['check', '251'],
        ]);
      } finally {
        await hub.stop();
        ({ hub, dataDir } = saved);
        rmSync(dir, { recursive: true, force: true });
      }
    });

    const cheats: { name: string; reason: string; result: () => Buffer; caughtBy: 'hub' | 'check' }[] = [
      { name: 'a blank frame', reason: 'blank', result: () => encode({ width: W, height: H, data: new Uint8Array(W * H * 4).fill(255) }), caughtBy: 'hub' },
      { name: 'the wrong size', reason: 'wrong_size', result: () => encode({ width: 32, height: 32, data: frames.honest.data.subarray(0, 32 * 32 * 4) }), caughtBy: 'hub' },
      { name: 'not an image', reason: 'not_an_image', result: () => randomBytes(5000), caughtBy: 'hub' },
      { name: 'a region altered', reason: 'check_mismatch', result: () => variant(altered(frames.honest)), caughtBy: 'check' },
      { name: '1 sample at half resolution, upscaled', reason: 'check_mismatch', result: () => variant(frames.lowUpscaled), caughtBy: 'check' },
    ];
    for (const cheat of cheats) {
      it(`refuses ${cheat.name} (${cheat.reason}), records it, and reopens the frame for another node`, async () => {
        const j = await submit({ start: 1, end: 1 });
        const cheater = await node();
        const honest = await node();
        const l = (await lease(cheater))!;
        expect((await handIn(cheater, l, cheat.result())).status).toBe(200);
        if (cheat.caughtBy === 'check') {
          expect((await job(j.id)).frames[0]!.state).toBe('checking');
          const check = (await lease(honest))!;
          expect(check.task.verifies).toBe(l.taskId);
          expect((await handIn(honest, check, checkRender(check))).status).toBe(200);
        }
        const after = await job(j.id);
        expect(after.frames[0]).toMatchObject({ state: 'open', provider: null, result: null });
        expect(after.frames[0]!.failures).toEqual([{ provider: cheater.address, reason: cheat.reason, detail: expect.any(String) }]);
        if (cheat.caughtBy === 'check') expect(after.frames[0]!.failures[0]!.detail).toMatch(/PSNR .* dB \(min 31\.0\), SSIM/);
        expect(await reputation(cheater)).toEqual({ score: 1 / 3, passed: 0, failed: 1 });
        expect(credits).toEqual([]);
        // Another node takes the frame (the cheater is excluded from it), and its honest result passes.
        expect(await lease(cheater)).toBeNull();
        const again = (await lease(honest))!;
        expect(again.taskId).toBe(l.taskId);
        expect((await handIn(honest, again, variant(frames.honest))).status).toBe(200);
        const checker = await node();
        const check = (await lease(checker))!;
        expect((await handIn(checker, check, checkRender(check))).status).toBe(200);
        expect((await job(j.id)).state).toBe('done');
        expect(credits.map((c) => [c.node, c.kind])).toEqual([
          [honest.address, 'render'],
          [checker.address, 'check'],
        ]);
      });
    }

    it('refuses a frame handed in for another job (the same bytes under another scene)', async () => {
      const first = await submit({ start: 1, end: 1 });
      const second = await submit({ start: 1, end: 1 });
      const a = await node();
      const b = await node();
      const png = variant(frames.honest);
      const la = (await lease(a))!;
      expect(la.task.job!.id).toBe(first.id);
      expect((await handIn(a, la, png)).status).toBe(200);
      const copy = (await lease(b))!;
      expect(copy.task.job!.id).toBe(second.id);
      expect((await handIn(b, copy, png)).status).toBe(200);
      const frame = (await job(second.id)).frames[0]!;
      expect(frame.state).toBe('open');
      expect(frame.failures).toEqual([{ provider: b.address, reason: 'duplicate', detail: expect.stringContaining(la.taskId) }]);
      expect(await reputation(b)).toMatchObject({ failed: 1 });
      // The same bytes for another frame of the same scene and settings are not a copy (a still
      // scene renders every frame alike).
      expect((await job(first.id)).frames[0]!.state).toBe('checking');
      expect(credits).toEqual([]);
    });

    it('blocks a node from a job after two refused results; a poorly rated node waits for fresh work', async () => {
      const j = await submit({ start: 1, end: 3 });
      const x = await node();
      const y = await node();
      const blank = () => encode({ width: W, height: H, data: new Uint8Array(W * H * 4) });
      const l1 = (await lease(x))!;
      expect((await handIn(x, l1, blank())).status).toBe(200);
      // Score 1/3 now: fresh tasks go to better nodes for 30 seconds first.
      expect((await reputation(x)).score).toBeLessThan(0.5);
      expect(await lease(x)).toBeNull();
      skew.ms += 31_000;
      try {
        const l2 = (await lease(x))!;
        expect(l2.taskId).not.toBe(l1.taskId);
        expect((await handIn(x, l2, blank())).status).toBe(200);
        skew.ms += 31_000;
        // Two refused in this job: nothing more of it, though frames are open.
        expect(await lease(x)).toBeNull();
        const { rows } = await hub.db.query<{ refusals: number }>('select refusals from job_blocks where job_id = $1 and node = $2', [j.id, x.address]);
        expect(rows[0]!.refusals).toBe(2);
        expect((await job(j.id)).frames.filter((f) => f.state === 'open')).toHaveLength(3);
        expect((await lease(y))!.task.job!.id).toBe(j.id);
        // Another job's work it still gets.
        const other = await submit({ start: 1, end: 1 });
        skew.ms += 31_000;
        expect((await lease(x))!.task.job!.id).toBe(other.id);
      } finally {
        skew.ms = 0;
      }
      expect(await reputation(x)).toEqual({ score: 1 / 4, passed: 0, failed: 2 });
    });

    it('examines, in its sweep, a result that a crash left handed in but never looked at', async () => {
      const j = await submit({ start: 1, end: 1 });
      const a = await node();
      const l = (await lease(a))!;
      const png = variant(frames.honest);
      const ref = await upload(a.token, png);
      // What Tasks.complete writes, with the hub gone before verification ran.
      await hub.db.query(
        "update tasks set state = 'done', result = $2, progress = 1, lease_expires_ms = null, verify_state = 'rendered', updated_ms = $3 where id = $1",
        [l.taskId, JSON.stringify({ ref, bytes: png.length }), clock.now() - 120_000],
      );
      expect((await job(j.id)).frames[0]!.state).toBe('rendered');
      const dir = mkdtempSync(join(tmpdir(), 'offhours-hub-jobs-sweep-'));
      // Another hub process on the same database would pick it up; on PGlite, the same hub restarted.
      const url = backend === 'postgres' ? (await pgServer!).url : null;
      if (url) {
        const other = await startHub({ dataDir: dir, databaseUrl: url, customerKey: hub.customerKey, port: 0, clock, log: () => {}, sweepIntervalMs: 20, credits: sink, verify: { checkFraction: 1, cropArea: 1 } });
        try {
          // Its blob store is its own directory (hubs sharing a database share blobs only through a
          // shared directory): give it the frame.
          const res = await fetch(`${other.url}/v1/blobs/${ref.slice(7)}?offset=0&length=${png.length}`, { method: 'PUT', headers: { authorization: `Bearer ${hub.customerKey}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(png) });
          expect(res.status).toBe(200);
          while ((await job(j.id)).frames[0]!.state === 'rendered') await new Promise((r) => setTimeout(r, 20));
        } finally {
          await other.stop();
          rmSync(dir, { recursive: true, force: true });
        }
      } else {
        await hub.stop();
        try {
          hub = await startHub({ dataDir, databaseUrl: '', port: 0, clock, log: () => {}, sweepIntervalMs: 20, maxBlobBytes: MAX_BLOB, credits: sink, verify: { checkFraction: 1, cropArea: 1 } });
          while ((await job(j.id)).frames[0]!.state === 'rendered') await new Promise((r) => setTimeout(r, 20));
        } finally {
          // Back to a hub that does not sweep, for the tests that follow.
          await hub.stop();
          hub = await startHub({ dataDir, databaseUrl: '', port: 0, clock, log: () => {}, sweepIntervalMs: 3_600_000, maxBlobBytes: MAX_BLOB, credits: sink, verify: { checkFraction: 1, cropArea: 1 } });
          rmSync(dir, { recursive: true, force: true });
        }
      }
      expect((await job(j.id)).frames[0]!.state).toBe('checking');
    });

    it('fails a job whose frame was refused five times, and hands out nothing more of it', async () => {
      const j = await submit({ start: 1, end: 2 });
      const white = () => encode({ width: W, height: H, data: new Uint8Array(W * H * 4).fill(255) });
      const target = j.frames[0]!.taskId;
      for (let i = 0; i < 5; i++) {
        const n = await node();
        // Each fresh node leases the queue's head: frame 1 while it is open.
        const l = (await lease(n))!;
        expect(l.taskId).toBe(target);
        expect((await handIn(n, l, white())).status).toBe(200);
      }
      const after = await job(j.id);
      expect(after.state).toBe('failed');
      expect(after.frames[0]!.state).toBe('failed');
      expect(after.frames[0]!.failures).toHaveLength(5);
      expect(after.counts.failed).toBe(1);
      expect(await lease(await node())).toBeNull();
      expect(credits).toEqual([]);
      const status = HubStatusView.parse((await call('GET', '/v1/status', undefined, hub.customerKey)).json);
      expect(status.jobs.failed).toBeGreaterThanOrEqual(1);
      expect(status.failures24h).toBeGreaterThanOrEqual(5);
    });
  });
});
