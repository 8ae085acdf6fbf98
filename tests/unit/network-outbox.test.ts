// The outbox against an in-memory hub (a fake: the blob store and complete, with the real hub's
// rules for offsets and repeated completes): a result is delivered once; a hub that is down is
// retried; an agent restart replays what was not delivered and delivers it once; an upload cut off
// halfway resumes from the hub's offset; a lease the hub no longer knows ends the entry.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContentRef, ResultRef } from '../../protocol/index.js';
import { HubRequestError } from '../../agent/network/hub-http.js';
import { Outbox, type OutboxEntry, type OutboxTransport } from '../../agent/network/outbox.js';
import { waitFor } from '../support/jobs.js';
import { useTempDirs } from '../support/tmp.js';
import { silentLog } from './signals-support.js';

const log = silentLog;
const backoff = { baseMs: 20, maxMs: 80 };

/** The hub's side: bytes held per blob, completes per lease (a repeat of the same result is fine). */
class FakeHub {
  up = true;
  held = new Map<string, Buffer>();
  completes: Array<{ leaseId: string; result: ResultRef }> = [];
  puts: Array<{ offset: number; bytes: number }> = [];
  /** Cut the next upload off after this many bytes. */
  cutAfter: number | null = null;
  known = new Set<string>(['l_1', 'l_2']);

  transport(): OutboxTransport {
    return {
      uploadBlob: async (file, ref, bytes) => {
        if (!this.up) throw new HubRequestError('unreachable', 'the hub cannot be reached');
        const hex = ref.slice(7);
        const have = this.held.get(hex) ?? Buffer.alloc(0);
        if (have.length === bytes) return;
        const rest = readFileSync(file).subarray(have.length, bytes);
        this.puts.push({ offset: have.length, bytes: rest.length });
        if (this.cutAfter !== null) {
          this.held.set(hex, Buffer.concat([have, rest.subarray(0, this.cutAfter)]));
          this.cutAfter = null;
          throw new HubRequestError('unreachable', 'the upload broke off');
        }
        const all = Buffer.concat([have, rest]);
        if (createHash('sha256').update(all).digest('hex') !== hex) throw new HubRequestError('http', 'digest', 422, 'digest_mismatch');
        this.held.set(hex, all);
      },
      complete: async (leaseId, result) => {
        if (!this.up) throw new HubRequestError('unreachable', 'the hub cannot be reached');
        if (!this.known.has(leaseId)) throw new HubRequestError('http', 'no such lease', 404, 'lease_not_found');
        const done = this.completes.find((c) => c.leaseId === leaseId);
        if (done && JSON.stringify(done.result) !== JSON.stringify(result)) throw new HubRequestError('http', 'another result', 409, 'conflict');
        if (!this.held.has(result.ref.slice(7))) throw new HubRequestError('http', 'missing blob', 409, 'conflict');
        if (!done) this.completes.push({ leaseId, result });
      },
    };
  }
}

describe('outbox', () => {
  const tmp = useTempDirs();
  const open: Outbox[] = [];
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
  });

  const outbox = (dataDir: string, hub: FakeHub, settled: OutboxEntry[] = []) => {
    const o = new Outbox({ dataDir, log, backoff, transport: () => hub.transport(), onSettled: (e) => settled.push(e) });
    open.push(o);
    return o;
  };
  const frame = (dir: string, content = 'a rendered frame '.repeat(500)) => {
    const p = join(dir, 'frame_0001.png');
    writeFileSync(p, content);
    return { path: p, ref: `sha256:${createHash('sha256').update(content).digest('hex')}` as ContentRef, bytes: Buffer.byteLength(content) };
  };

  it('delivers a result once: uploaded, completed with its sha256, journaled, its file deleted', async () => {
    const dir = tmp();
    const hub = new FakeHub();
    const settled: OutboxEntry[] = [];
    const o = outbox(dir, hub, settled);
    const f = frame(dir);
    const e = await o.add({ id: 'j_a', network: 'hub.example', leaseId: 'l_1', taskId: 't_1' }, f.path);
    expect(e!.ref).toBe(f.ref);
    expect(e!.bytes).toBe(f.bytes);
    await waitFor(() => settled.length === 1, 'delivery');
    expect(hub.completes).toEqual([{ leaseId: 'l_1', result: { ref: f.ref, bytes: f.bytes, mediaType: 'image/png' } }]);
    expect(o.pending()).toEqual([]);
    expect(readdirSync(o.dir)).toEqual([]);
    // Adding it again (a repeated event), even after a restart, delivers nothing more.
    expect(await o.add({ id: 'j_a', network: 'hub.example', leaseId: 'l_1', taskId: 't_1' }, f.path)).toBeNull();
    o.close();
    expect(await outbox(dir, hub).add({ id: 'j_a', network: 'hub.example', leaseId: 'l_1', taskId: 't_1' }, f.path)).toBeNull();
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toHaveLength(1);
    expect(hub.completes).toHaveLength(1);
  });

  it('keeps retrying while the hub is down, and replays after a restart, delivering exactly once', async () => {
    const dir = tmp();
    const hub = new FakeHub();
    hub.up = false;
    const first = outbox(dir, hub);
    const f = frame(dir);
    await first.add({ id: 'j_b', network: 'hub.example', leaseId: 'l_1', taskId: 't_1' }, f.path);
    await new Promise((r) => setTimeout(r, 200));
    expect(first.pending()).toHaveLength(1);
    first.close();
    // The agent restarts: the journal brings the entry back, and its file is still there.
    const settled: OutboxEntry[] = [];
    const second = outbox(dir, hub, settled);
    expect(second.pending().map((e) => e.id)).toEqual(['j_b']);
    second.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(hub.completes).toEqual([]);
    hub.up = true;
    await waitFor(() => settled.length === 1, 'delivery after the hub came back');
    second.close();
    // A third start finds nothing left to do.
    const third = outbox(dir, hub);
    expect(third.pending()).toEqual([]);
    third.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(hub.completes).toHaveLength(1);
  });

  it('a complete whose answer was lost is repeated harmlessly after a restart', async () => {
    const dir = tmp();
    const hub = new FakeHub();
    const f = frame(dir);
    // The hub completed, but the agent died before journaling it: the entry replays.
    const first = outbox(dir, hub);
    const transport = hub.transport();
    let once = false;
    first.close();
    const settled: OutboxEntry[] = [];
    const o = new Outbox({
      dataDir: dir,
      log,
      backoff,
      transport: () => ({
        uploadBlob: transport.uploadBlob,
        complete: async (leaseId, result) => {
          await transport.complete(leaseId, result);
          if (!once) {
            once = true;
            throw new HubRequestError('timeout', 'the answer was lost');
          }
        },
      }),
      onSettled: (e) => settled.push(e),
    });
    open.push(o);
    await o.add({ id: 'j_c', network: 'hub.example', leaseId: 'l_1', taskId: 't_1' }, f.path);
    await waitFor(() => settled.length === 1, 'delivery');
    expect(hub.completes).toHaveLength(1);
  });

  it('resumes an upload cut off halfway from the offset the hub holds', async () => {
    const dir = tmp();
    const hub = new FakeHub();
    hub.cutAfter = 1000;
    const settled: OutboxEntry[] = [];
    const o = outbox(dir, hub, settled);
    const f = frame(dir);
    await o.add({ id: 'j_d', network: 'hub.example', leaseId: 'l_1', taskId: 't_1' }, f.path);
    await waitFor(() => settled.length === 1, 'delivery');
    expect(hub.puts).toEqual([
      { offset: 0, bytes: f.bytes },
      { offset: 1000, bytes: f.bytes - 1000 },
    ]);
    expect(hub.completes).toHaveLength(1);
  });

  it('ends an entry whose lease the hub no longer knows, with its reason, and removes its file', async () => {
    const dir = tmp();
    const hub = new FakeHub();
    hub.known.delete('l_2');
    const outcomes: string[] = [];
    const o = new Outbox({ dataDir: dir, log, backoff, transport: () => hub.transport(), onSettled: (_e, outcome, reason) => outcomes.push(`${outcome}: ${reason}`) });
    open.push(o);
    const f = frame(dir);
    await o.add({ id: 'j_e', network: 'hub.example', leaseId: 'l_2', taskId: 't_2' }, f.path);
    await waitFor(() => outcomes.length === 1, 'the entry to end');
    expect(outcomes[0]).toMatch(/^dropped: lease_not_found/);
    expect(hub.completes).toEqual([]);
    expect(existsSync(join(o.dir, 'j_e.png'))).toBe(false);
    o.close();
    expect(outbox(dir, hub).pending()).toEqual([]);
  });

  it('waits while no transport exists for the hub (not signed in), then delivers when kicked', async () => {
    const dir = tmp();
    const hub = new FakeHub();
    let ready = false;
    const settled: OutboxEntry[] = [];
    const o = new Outbox({ dataDir: dir, log, backoff: { baseMs: 60_000, maxMs: 60_000 }, transport: () => (ready ? hub.transport() : null), onSettled: (e) => settled.push(e) });
    open.push(o);
    const f = frame(dir);
    await o.add({ id: 'j_f', network: 'hub.example', leaseId: 'l_1', taskId: 't_1' }, f.path);
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toEqual([]);
    ready = true;
    o.kick('hub.example');
    await waitFor(() => settled.length === 1, 'delivery after the kick');
  });
});
