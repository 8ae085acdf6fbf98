// Main's node key secret with Electron's safeStorage faked at the boundary (real files): made once
// and kept encrypted, handed over on request through the supervisor, never made for an existing
// keystore, and every failure answered rather than left hanging.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentSupervisor } from '../../main/agent-supervisor.js';
import type { ChildHandle } from '../../main/child-handle.js';
import { AppNodeKeySecret, type SafeStorageLike } from '../../main/node-key-secret.js';
import { createParentChannel } from '../../agent/parent-channel.js';
import { useTempDirs } from '../support/tmp.js';

/** Reversible and visibly not plain text, like the real thing. */
function fakeSafeStorage(opts: { available?: boolean } = {}): SafeStorageLike & { encrypted: number } {
  const s = {
    encrypted: 0,
    isEncryptionAvailable: () => opts.available ?? true,
    encryptString: (text: string) => {
      s.encrypted++;
      return Buffer.from(`enc:${Buffer.from(text).toString('base64')}`);
    },
    decryptString: (data: Buffer) => {
      const t = data.toString();
      if (!t.startsWith('enc:')) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      return Buffer.from(t.slice(4), 'base64').toString();
    },
  };
  return s;
}

describe('AppNodeKeySecret', () => {
  const tmp = useTempDirs();
  const logs: string[] = [];

  it('makes a secret once, keeps it only encrypted (0600), and gives the same one to later requests and runs', async () => {
    const path = join(tmp(), 'node-key.app-secret');
    const safeStorage = fakeSafeStorage();
    const a = await new AppNodeKeySecret({ safeStorage, path, log: (m) => logs.push(m) }).answer({ type: 'node-key-secret-request', requestId: 'k1', create: true });
    expect(a).toMatchObject({ type: 'node-key-secret', requestId: 'k1' });
    const secret = (a as { secret: string }).secret;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(path, 'utf8')).not.toContain(secret);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = await new AppNodeKeySecret({ safeStorage, path, log: () => {} }).answer({ type: 'node-key-secret-request', requestId: 'k2', create: false });
    expect(again).toEqual({ type: 'node-key-secret', requestId: 'k2', secret });
    expect(safeStorage.encrypted).toBe(1);
  });

  it('never makes a new secret for an existing keystore, and says why', async () => {
    const path = join(tmp(), 'node-key.app-secret');
    const answer = await new AppNodeKeySecret({ safeStorage: fakeSafeStorage(), path, log: () => {} }).answer({ type: 'node-key-secret-request', requestId: 'k1', create: false });
    expect(answer).toMatchObject({ type: 'node-key-secret-failed', requestId: 'k1', error: expect.stringMatching(/missing/) });
  });

  it('answers a failure when the keychain is unavailable or cannot decrypt, and tries again on the next request', async () => {
    const path = join(tmp(), 'node-key.app-secret');
    const off = await new AppNodeKeySecret({ safeStorage: fakeSafeStorage({ available: false }), path, log: () => {} }).answer({ type: 'node-key-secret-request', requestId: 'k1', create: true });
    expect(off).toMatchObject({ type: 'node-key-secret-failed', error: expect.stringMatching(/keychain is not available/) });
    writeFileSync(path, 'garbage');
    const holder = new AppNodeKeySecret({ safeStorage: fakeSafeStorage(), path, log: () => {} });
    expect(await holder.answer({ type: 'node-key-secret-request', requestId: 'k2', create: false })).toMatchObject({ type: 'node-key-secret-failed', error: expect.stringMatching(/could not decrypt/) });
    writeFileSync(path, `enc:${Buffer.from('d'.repeat(64)).toString('base64')}`);
    expect(await holder.answer({ type: 'node-key-secret-request', requestId: 'k3', create: false })).toEqual({ type: 'node-key-secret', requestId: 'k3', secret: 'd'.repeat(64) });
  });

  it('travels agent -> supervisor -> answer -> agent as validated messages on the parent channel', async () => {
    const posted: unknown[] = [];
    let listener: (m: unknown) => void = () => {};
    const child: ChildHandle<string> = {
      pid: () => 1,
      post: (m) => void posted.push(m),
      onSpawn: () => {},
      onMessage: (l) => void (listener = l),
      onExit: () => {},
      kill: () => {},
    };
    const holder = new AppNodeKeySecret({ safeStorage: fakeSafeStorage(), path: join(tmp(), 'node-key.app-secret'), log: () => {} });
    const answered: Promise<void>[] = [];
    const supervisor: AgentSupervisor<string> = new AgentSupervisor<string>({
      fork: () => child,
      readRuntimeFile: async () => null,
      timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
      now: () => Date.now(),
      onState: () => {},
      onWorkerRequest: () => {},
      onNodeKeySecretRequest: (r) => void answered.push(holder.answer(r).then((m) => void supervisor.send(m))),
      onAgentExit: () => {},
      log: () => {},
    });
    supervisor.start();
    listener({ type: 'node-key-secret-request', requestId: 'k9', create: true });
    listener({ type: 'node-key-secret-request', requestId: 'k10', create: true, secret: 'injected' });
    await Promise.all(answered);
    expect(answered).toHaveLength(1);
    expect(posted).toEqual([{ type: 'node-key-secret', requestId: 'k9', secret: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
  });

  it('a supervisor without a secret keeper answers a failure instead of leaving the agent waiting', () => {
    const posted: unknown[] = [];
    let listener: (m: unknown) => void = () => {};
    const supervisor = new AgentSupervisor<string>({
      fork: () => ({ pid: () => 1, post: (m) => void posted.push(m), onSpawn: () => {}, onMessage: (l) => void (listener = l), onExit: () => {}, kill: () => {} }),
      readRuntimeFile: async () => null,
      timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
      now: () => Date.now(),
      onState: () => {},
      onWorkerRequest: () => {},
      onAgentExit: () => {},
      log: () => {},
    });
    supervisor.start();
    listener({ type: 'node-key-secret-request', requestId: 'k1', create: false });
    expect(posted).toEqual([{ type: 'node-key-secret-failed', requestId: 'k1', error: expect.any(String) }]);
  });

  it('the agent end: the request carries `create`, and the answer or the failure settles it', async () => {
    const sent: any[] = [];
    let deliver: (e: { data: unknown; ports: unknown[] }) => void = () => {};
    const log = { warn: () => {} } as any;
    const channel = createParentChannel({ postMessage: (m) => void sent.push(m), on: (_e, l) => (deliver = l) }, log);
    const ok = channel.requestNodeKeySecret(false);
    expect(sent[0]).toEqual({ type: 'node-key-secret-request', requestId: expect.any(String), create: false });
    deliver({ data: { type: 'node-key-secret', requestId: sent[0].requestId, secret: 'e'.repeat(64) }, ports: [] });
    await expect(ok).resolves.toBe('e'.repeat(64));
    const refused = channel.requestNodeKeySecret(true);
    deliver({ data: { type: 'node-key-secret-failed', requestId: sent[1].requestId, error: 'keychain locked' }, ports: [] });
    await expect(refused).rejects.toThrow('keychain locked');
  });
});
