// Result upload throughput and time from job submission to first lease, on a real hub (PGlite)
// over loopback.
// - Upload: the agent's own uploader (agent/network/blob-transfer.ts: status, PUTs in 64 MiB pieces,
//   hashed and fsynced by the hub) against a plain file copy over the same loopback: one PUT of
//   the same file to a bare node:http server that pipes it into a file and fsyncs it. Best of 3 each.
// - Submission to first lease: a customer submits a job (scene already uploaded) while a signed-in,
//   registered node asks for work in a loop; the time from the submit's start to the node holding a
//   lease of that job. Baseline: one GET /v1/health round trip from the same client.
// HUB_BENCH_UPLOAD_MIB (default 256).
import './define-globals.js';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Wallet } from 'ethers';
import { startHub } from '../hub/hub.js';
import { uploadBlob } from '../agent/network/blob-transfer.js';
import { hubHttp } from '../agent/network/hub-http.js';
import { signInMessage, type ContentRef, type SignInChallenge } from '../protocol/index.js';
import { emit } from './lib.mjs';

const MIB = 1024 * 1024;
const SIZE = Number(process.env.HUB_BENCH_UPLOAD_MIB ?? 256) * MIB;

const dir = mkdtempSync(join(tmpdir(), 'offhours-transfer-bench-'));
const hub = await startHub({ dataDir: join(dir, 'hub'), databaseUrl: '', port: 0, log: () => undefined });
try {
  // --- upload ---
  const file = join(dir, 'result.bin');
  const fd = openSync(file, 'w');
  for (let done = 0; done < SIZE; done += 16 * MIB) writeFileSync(fd, randomBytes(Math.min(16 * MIB, SIZE - done)));
  closeSync(fd);
  const hashes: string[] = [];
  let hubBest = Infinity;
  for (let i = 0; i < 3; i++) {
    // A different blob each round (one byte appended would change the size; flip the last instead),
    // so the hub never answers "already complete".
    const fdr = openSync(file, 'r+');
    writeFileSync(fdr, Buffer.from([i]), { encoding: null });
    closeSync(fdr);
    const hex = await new Promise<string>((res, rej) => {
      const h = createHash('sha256');
      createReadStream(file).on('data', (c) => h.update(c)).on('end', () => res(h.digest('hex'))).on('error', rej);
    });
    hashes.push(hex);
    const http = hubHttp(hub.url, 60_000, new AbortController().signal);
    http.setToken(hub.customerKey);
    const t = performance.now();
    await uploadBlob(http, file, `sha256:${hex}` as ContentRef, SIZE);
    hubBest = Math.min(hubBest, (performance.now() - t) / 1000);
  }

  const sink = createServer((req, res) => {
    const out = join(dir, `copy-${Math.random().toString(36).slice(2)}`);
    const ws = createWriteStream(out);
    pipeline(req, ws).then(
      () => {
        const f = openSync(out, 'r');
        fsyncSync(f);
        closeSync(f);
        rmSync(out);
        res.end('{}');
      },
      () => res.destroy(),
    );
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`;
  let copyBest = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const { Readable } = await import('node:stream');
    const res = await fetch(sinkUrl, { method: 'PUT', body: Readable.toWeb(createReadStream(file)) as ReadableStream, duplex: 'half', headers: { 'content-length': String(SIZE) } } as RequestInit);
    await res.text();
    copyBest = Math.min(copyBest, (performance.now() - t) / 1000);
  }
  sink.close();
  const mib = SIZE / MIB;
  emit('hub_result_upload_mib_s', mib / hubBest, `MiB/s (${mib} MiB result through the agent's uploader to the hub: SHA-256 checked, fsynced; best of 3; baseline: plain HTTP PUT into a file on the same loopback, fsynced)`, mib / copyBest);

  // --- submission to first lease ---
  const key = new Wallet(`0x${randomBytes(32).toString('hex')}`);
  const post = async (path: string, body: unknown, token: string) => {
    const r = await fetch(`${hub.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    return { status: r.status, json: (await r.json()) as any };
  };
  const c = (await post('/v1/auth/challenge', { address: key.address }, 'x'.repeat(16))).json as SignInChallenge;
  const token = (await post('/v1/auth/sign-in', { address: key.address, nonce: c.nonce, signature: await key.signMessage(signInMessage(c)) }, 'x'.repeat(16))).json.token as string;
  await post(
    '/v1/nodes',
    {
      payoutAddress: key.address,
      capabilities: {
        devices: [{ id: 'cpu', kind: 'cpu', name: 'bench', cyclesBackend: 'cpu', benchmarkSamplesPerS: 1000 }],
        engines: [{ name: 'blender', version: '3.4.1' }],
        diskOfferedBytes: 0,
        priceFloor: { token: 'USDC', renderPerBenchmarkMinute: '0', storagePerGiBDay: '0' },
      },
    },
    token,
  );
  const scene = `sha256:${hashes[2]!}`;
  const healthLat: number[] = [];
  const firstLease: number[] = [];
  for (let round = 0; round < 10; round++) {
    const h0 = performance.now();
    await (await fetch(`${hub.url}/v1/health`)).text();
    healthLat.push(performance.now() - h0);
    // Leases of earlier rounds are kept (not released), so the queue holds only this round's task
    // and the first lease the node gets is it.
    const give = { up: false };
    let leasedAt = 0;
    const t0 = performance.now();
    const poller = (async () => {
      while (!give.up) {
        const r = await post('/v1/leases', { kinds: ['render'], device: 'cpu' }, token);
        if (r.json.lease) {
          leasedAt = performance.now();
          return;
        }
      }
    })();
    const submitted = await post(
      '/v1/jobs',
      { kind: 'render', name: `bench ${round}`, scene, frames: { start: 1, end: 1 }, settings: { engine: 'cycles', samples: 1, resolutionX: 8, resolutionY: 8 } },
      hub.customerKey,
    );
    if (submitted.status !== 201) throw new Error(`submit: ${submitted.status} ${JSON.stringify(submitted.json)}`);
    const guard = setTimeout(() => (give.up = true), 10_000);
    await poller;
    clearTimeout(guard);
    if (!leasedAt) throw new Error('no lease of the submitted job within 10 s');
    firstLease.push(leasedAt - t0);
  }
  firstLease.sort((a, b) => a - b);
  healthLat.sort((a, b) => a - b);
  emit('hub_submit_to_first_lease_ms', firstLease[5]!, 'ms median, job submission (scene already uploaded) to a polling node holding its first task (10 rounds; baseline: GET /v1/health round trip)', healthLat[5]!);
} finally {
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
}
