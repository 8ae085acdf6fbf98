// The customer's CLI as a customer runs it: the built `offhours job …` and `offhours hub status`
// against a real hub (startHub on PGlite in a temp dir) over loopback. Uploads must arrive
// byte-exact and resume from what the hub holds; frames are rendered by a "node" signed in over the
// node API here (real PNGs from pngjs), so fetch has verified results to download and check.
// Broken hubs (a tiny server answering nonsense) and a missing key file must give clear errors
// and the documented exit codes; a key is never accepted on the command line.
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Wallet } from 'ethers';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStatus, HubJobView, LeaseResponse, Session, SignInChallenge, signInMessage, type RegisterNodeRequest } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/hub.js';
import { UPLOAD_CHUNK_BYTES } from '../../cli/hub-customer.js';
import { cliPath, requireBuild, runCli } from '../support/agent-process.js';

let hub: RunningHub;
let root: string;
let keyFile: string;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function putBlob(hex: string, offset: number, length: number, bytes: Buffer, token: string): Promise<number> {
  const res = await fetch(`${hub.url}/v1/blobs/${hex}?offset=${offset}&length=${length}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` },
    body: new Uint8Array(bytes),
  });
  await res.arrayBuffer();
  return res.status;
}

async function hubBlob(hex: string): Promise<Buffer> {
  const res = await fetch(`${hub.url}/v1/blobs/${hex}`, { headers: { authorization: `Bearer ${hub.customerKey}` } });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

async function blobStatus(hex: string): Promise<BlobStatus> {
  const r = await call('GET', `/v1/blobs/${hex}/status`, undefined, hub.customerKey);
  expect(r.status).toBe(200);
  return BlobStatus.parse(r.json);
}

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { OFFHOURS_HUB_URL: hub.url, OFFHOURS_HUB_KEY_FILE: keyFile, ...env });

/** A node key signed in and registered over the node API, as an agent would be. */
async function node(): Promise<{ key: Wallet; token: string }> {
  const key = new Wallet(`0x${randomBytes(32).toString('hex')}`);
  const c = SignInChallenge.parse((await call('POST', '/v1/auth/challenge', { address: key.address })).json);
  const s = await call('POST', '/v1/auth/sign-in', { address: key.address, nonce: c.nonce, signature: await key.signMessage(signInMessage(c)) });
  const token = Session.parse(s.json).token;
  const reg: RegisterNodeRequest = {
    payoutAddress: key.address,
    capabilities: {
      devices: [{ id: 'cpu', kind: 'cpu', name: 'Test CPU', cyclesBackend: 'cpu', benchmarkSamplesPerS: 50_000 }],
      engines: [{ name: 'blender', version: '4.2.3' }],
      diskOfferedBytes: 0,
      priceFloor: { token: 'USDC', renderPerBenchmarkMinute: '0', storagePerGiBDay: '0' },
    },
  };
  expect((await call('POST', '/v1/nodes', reg, token)).status).toBe(200);
  return { key, token };
}

/** A real PNG of the job's size, noisy so no two frames are alike and none is blank. */
function png(width: number, height: number): Buffer {
  const img = new PNG({ width, height });
  randomBytes(width * height * 4).copy(img.data);
  for (let i = 3; i < img.data.length; i += 4) img.data[i] = 255;
  return PNG.sync.write(img);
}

async function waitFor<T>(what: string, probe: () => Promise<T | null>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await probe();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  requireBuild();
  root = mkdtempSync(join(tmpdir(), 'offhours-customer-cli-'));
  // Every frame handed in is checked for being a real, non-blank image of the right size; no
  // check re-renders, which would need a second node with Blender.
  hub = await startHub({ dataDir: join(root, 'hub'), databaseUrl: '', port: 0, log: () => {}, verify: { checkFraction: 0 } });
  keyFile = hub.customerKeyFile;
}, 60_000);

afterAll(async () => {
  await hub?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('offhours job (CLI) against a real hub', () => {
  it('submits a scene byte-exact, skips an upload the hub already has, and lists the job', async () => {
    const scene = join(root, 'shot.blend');
    const data = randomBytes(9 * 1024 * 1024 + 321);
    writeFileSync(scene, data);
    const r = await cli(['job', 'submit', 'render', scene, '--frames', '1-3', '--samples', '8', '--resolution', '64x48', '--name', 'shot A']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(r.stderr).toMatch(new RegExp(`Uploaded ${data.length} bytes`));
    const hex = sha256(data);
    expect((await hubBlob(hex)).equals(data)).toBe(true);

    const again = await cli(['job', 'submit', 'render', scene, '--frames', '5', '--resolution', '64x48']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/already has this scene/);
    expect(again.stderr).not.toMatch(/Uploaded/);

    const status = await cli(['job', 'status', id]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/shot A/);
    expect(status.stdout).toMatch(/0 of 3 frames verified/);
    expect(status.stdout).toMatch(/frame {4}1 {2}open/);

    const json = await cli(['job', 'status', id, '--json']);
    const view = HubJobView.parse(JSON.parse(json.stdout));
    expect(view).toMatchObject({ id, name: 'shot A', scene: `sha256:${hex}`, settings: { samples: 8, resolutionX: 64, resolutionY: 48 } });
    expect(view.frames.map((f) => f.frame).sort()).toEqual([1, 2, 3]);

    const list = await cli(['job', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toContain(again.stdout.trim());
  }, 120_000);

  it('resumes an interrupted upload: sends only what the hub does not hold', async () => {
    const scene = join(root, 'big.blend');
    const data = randomBytes(12 * 1024 * 1024 + 5);
    writeFileSync(scene, data);
    const hex = sha256(data);
    // The first half arrives as a raw PUT, as if an earlier submit had died there.
    const half = 6 * 1024 * 1024 + 1;
    expect(await putBlob(hex, 0, data.length, data.subarray(0, half), hub.customerKey)).toBe(200);
    expect(await blobStatus(hex)).toMatchObject({ received: half, complete: false });

    const r = await cli(['job', 'submit', 'render', scene, '--frames', '1-2', '--resolution', '64x48']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Resuming the upload/);
    expect(r.stderr).toContain(`Uploaded ${data.length - half} bytes`);
    expect(r.stderr).toContain(`resumed at byte ${half}`);
    expect(await blobStatus(hex)).toMatchObject({ received: data.length, complete: true });
    expect((await hubBlob(hex)).equals(data)).toBe(true);
  }, 120_000);

  it('resumes after the CLI was killed mid-upload', async () => {
    const scene = join(root, 'killed.blend');
    const data = randomBytes(3 * UPLOAD_CHUNK_BYTES + 4321);
    writeFileSync(scene, data);
    const hex = sha256(data);
    // A proxy in front of the hub passes two upload chunks, then holds the third forever: the CLI
    // is killed while it waits, at a point that does not depend on timing.
    let puts = 0;
    const held: ServerResponse[] = [];
    const proxy = createServer((req, res) => {
      if (req.method === 'PUT' && puts++ >= 2) {
        held.push(res);
        req.resume();
        return;
      }
      const up = request(`${hub.url}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(hub.url).host } }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const child = spawn(process.execPath, [cliPath, 'job', 'submit', 'render', scene, '--frames', '1', '--resolution', '64x48'], {
      env: { ...process.env, OFFHOURS_HUB_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, OFFHOURS_HUB_KEY_FILE: keyFile },
      stdio: 'ignore',
    });
    try {
      await waitFor('the third chunk to be held', async () => (held.length > 0 ? true : null));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
    expect(await blobStatus(hex)).toMatchObject({ received: 2 * UPLOAD_CHUNK_BYTES, complete: false });

    const r = await cli(['job', 'submit', 'render', scene, '--frames', '1', '--resolution', '64x48']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Uploaded ${data.length - 2 * UPLOAD_CHUNK_BYTES} bytes`);
    expect(r.stderr).toContain(`resumed at byte ${2 * UPLOAD_CHUNK_BYTES}`);
    expect((await hubBlob(hex)).equals(data)).toBe(true);
  }, 120_000);

  it('fetches verified frames bit-exact, named by frame number, and resumes a partial file', async () => {
    const scene = join(root, 'frames.blend');
    writeFileSync(scene, randomBytes(100_000));
    const sub = await cli(['job', 'submit', 'render', scene, '--frames', '7-9', '--resolution', '32x24', '--samples', '4']);
    expect(sub.code, sub.stderr).toBe(0);
    const id = sub.stdout.trim();

    // A node renders frames 7 and 8; 9 stays open.
    const n = await node();
    const made = new Map<number, Buffer>();
    // Other tests' tasks are held, not released, so the queue moves on to this job's frames.
    const held: string[] = [];
    while (made.size < 2) {
      const lease = LeaseResponse.parse((await call('POST', '/v1/leases', { kinds: ['render'], device: 'cpu' }, n.token)).json).lease;
      if (!lease) break;
      const task = lease.task;
      if (task.job?.id !== id || task.frame === 9) {
        held.push(lease.leaseId);
        continue;
      }
      const bytes = png(task.settings.resolutionX, task.settings.resolutionY);
      const hex = sha256(bytes);
      expect(await putBlob(hex, 0, bytes.length, bytes, n.token)).toBe(200);
      const done = await call('POST', `/v1/leases/${lease.leaseId}/complete`, { result: { ref: `sha256:${hex}`, bytes: bytes.length, mediaType: 'image/png' } }, n.token);
      expect(done.status, JSON.stringify(done.json)).toBe(200);
      made.set(task.frame, bytes);
    }
    for (const l of held) expect((await call('POST', `/v1/leases/${l}/release`, { reason: 'other' }, n.token)).status).toBe(200);
    expect([...made.keys()].sort()).toEqual([7, 8]);
    await waitFor('two verified frames', async () => {
      const job = HubJobView.parse((await call('GET', `/v1/jobs/${id}`, undefined, hub.customerKey)).json);
      return job.counts.verified === 2 ? job : null;
    });

    const status = await cli(['job', 'status', id]);
    expect(status.stdout).toMatch(/2 of 3 frames verified/);
    expect(status.stdout).toMatch(/\[#{20}\.{10}\] 66% +\(2 verified, 1 open\)/);
    expect(status.stdout).toMatch(/frame {4}7 {2}verified/);

    const out = join(root, 'out');
    // Half of frame 7 is already here from an interrupted fetch: it must be completed, not restarted wrong.
    const f7 = made.get(7)!;
    mkdirSync(out);
    writeFileSync(join(out, 'frame-0007.png.part'), f7.subarray(0, Math.floor(f7.length / 2)));
    const fetched = await cli(['job', 'fetch', id, out]);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.stdout).toMatch(/2 frames downloaded/);
    expect(readdirSync(out).sort()).toEqual(['frame-0007.png', 'frame-0008.png']);
    expect(readFileSync(join(out, 'frame-0007.png')).equals(f7)).toBe(true);
    expect(readFileSync(join(out, 'frame-0008.png')).equals(made.get(8)!)).toBe(true);

    // A damaged partial (wrong bytes) is thrown away and fetched again from the start.
    rmSync(join(out, 'frame-0008.png'));
    writeFileSync(join(out, 'frame-0008.png.part'), randomBytes(100));
    const again = await cli(['job', 'fetch', id, out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/1 frame downloaded, 1 already here/);
    expect(readFileSync(join(out, 'frame-0008.png')).equals(made.get(8)!)).toBe(true);
    expect(existsSync(join(out, 'frame-0008.png.part'))).toBe(false);
  }, 120_000);

  it('hub status shows the operator the queue and jobs', async () => {
    const r = await cli(['hub', 'status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Providers: \d+ online of \d+ registered/);
    expect(r.stdout).toMatch(/Jobs: \d+ running/);
    const json = await cli(['hub', 'status', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ providers: expect.any(Number), queue: expect.any(Object) });
  }, 60_000);
});

describe('offhours job (CLI): refusals and broken hubs', () => {
  let fake: Server;
  let fakeUrl: string;
  let answer: (path: string) => { status: number; body: string; headers?: Record<string, string> };
  beforeAll(async () => {
    fake = createServer((req, res) => {
      const a = answer(req.url ?? '/');
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body);
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => fake.close(() => r())));

  it('a missing key file is a usage error that says where the key lives', async () => {
    const r = await cli(['job', 'list'], { OFFHOURS_HUB_KEY_FILE: join(root, 'no-such-key') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Cannot read the customer key file .*no-such-key: it does not exist/);
    expect(r.stderr).toMatch(/customer-key/);
  });

  it('a hub given without any key file is refused before anything is sent', async () => {
    const r = await runCli(['job', 'list', '--hub', fakeUrl], { OFFHOURS_HUB_URL: '', OFFHOURS_HUB_KEY_FILE: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/No customer key for .*--key-file/);
  });

  it('never takes a key on the command line, and does not echo it', async () => {
    const secret = 'S3cretS3cretS3cretS3cret';
    for (const args of [['job', 'list', '--key', secret], ['hub', 'status', `--key=${secret}`], ['job', 'status', 'x', '--token', secret]]) {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--key-file/);
      expect(r.stderr + r.stdout).not.toContain(secret);
    }
  });

  it('a wrong key is exit 4', async () => {
    const wrong = join(root, 'wrong-key');
    writeFileSync(wrong, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    chmodSync(wrong, 0o600);
    const r = await cli(['job', 'list', '--key-file', wrong]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/refused the customer key/);
  });

  it('answers that do not match the protocol are clear errors (exit 1), never a crash', async () => {
    const cases: { body: string; status?: number; headers?: Record<string, string>; says: RegExp }[] = [
      { body: JSON.stringify({ providersOnline: 'lots' }), says: /does not understand/ },
      { body: '<html>hello</html>', says: /not JSON/ },
      { body: ' '.repeat(33 * 1024 * 1024), says: /answer is too large/ },
      { body: JSON.stringify({ error: { code: 'internal', message: 'the database is on fire' } }), status: 500, says: /The hub refused: the database is on fire/ },
      { body: '', status: 302, headers: { location: 'http://127.0.0.1:1/steal' }, says: /Cannot reach the hub/ },
    ];
    for (const c of cases) {
      answer = () => ({ status: c.status ?? 200, body: c.body, ...(c.headers ? { headers: c.headers } : {}) });
      const r = await cli(['hub', 'status', '--hub', fakeUrl]);
      expect(r.code, `${c.body}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(c.says);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    }
    answer = () => ({ status: 200, body: JSON.stringify({ id: 'j1', kind: 'render', name: 'x', state: 'running', scene: 'nope' }) });
    const s = await cli(['job', 'status', 'j1', '--hub', fakeUrl]);
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/does not understand/);
    // A "verified" frame whose number would make a path outside DIR never becomes a file name.
    const evil = {
      id: 'j1', kind: 'render', name: 'x', state: 'running', scene: `sha256:${'a'.repeat(64)}`, settings: { engine: 'cycles', samples: 1, resolutionX: 8, resolutionY: 8 },
      pricePerFrame: '0', frames: [{ frame: -1, taskId: 't', state: 'verified', result: `sha256:${'b'.repeat(64)}`, provider: null, attempts: 1, failures: [] }],
      counts: { total: 1, verified: 1, failed: 0 }, createdAt: new Date().toISOString(), finishedAt: null,
    };
    answer = () => ({ status: 200, body: JSON.stringify(evil) });
    const out = join(root, 'evil-out');
    const f = await cli(['job', 'fetch', 'j1', out, '--hub', fakeUrl]);
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(/no job can have/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  }, 60_000);

  it('bad usage is exit 2 and says how', async () => {
    const r = await cli(['job', 'submit', 'render', join(root, 'none.blend'), '--frames', '1-3']);
    expect(r.code).toBe(2);
    const f = await cli(['job', 'submit', 'render', join(root, 'shot.blend'), '--frames', '9-3']);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/ends before it starts/);
  });
});
