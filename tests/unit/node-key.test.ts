// The node key on real files: made once from random bytes (no mnemonic), reopened with the same
// secret, kept aside (never overwritten) when it does not open, and never exposed by the object
// callers get. scrypt's cost is lowered except where the default itself is checked.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { verifyMessage, verifyTypedData } from 'ethers';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRYPT_N, loadOrCreateNodeKey, type NodeKeyProblem } from '../../agent/wallet/node-key.js';
import { nodeIdentity } from '../../agent/wallet/node-identity.js';
import { deferredAppSecretSource, fileSecretSource, SecretUnavailableError, type NodeKeySecretSource } from '../../agent/wallet/secret-source.js';
import { useTempDirs } from '../support/tmp.js';

const N = 2 ** 10;
const fixed = (secret: string): NodeKeySecretSource => ({ kind: 'app-secret', get: async () => secret });
const SECRET_A = 'a'.repeat(64);
const SECRET_B = 'b'.repeat(64);

describe('node key', () => {
  const tmp = useTempDirs();

  it('is made on first use with ethers’ default scrypt cost, has no mnemonic, and reopens to the same address', async () => {
    const dir = tmp();
    const key = await loadOrCreateNodeKey(dir, fileSecretSource(dir));
    expect(key.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(key.keystore).toBe('file-secret');
    const raw = readFileSync(join(dir, 'node-key.json'), 'utf8');
    const json = JSON.parse(raw);
    const crypto = json.Crypto ?? json.crypto;
    expect(crypto.kdf).toBe('scrypt');
    expect(crypto.kdfparams.n).toBe(DEFAULT_SCRYPT_N);
    expect(raw).not.toMatch(/mnemonic/i);
    expect(json['x-ethers']?.mnemonicCiphertext).toBeUndefined();
    expect(statSync(join(dir, 'node-key.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'node-key.secret')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'node-key.secret'), 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);

    const again = await loadOrCreateNodeKey(dir, fileSecretSource(dir));
    expect(again.address).toBe(key.address);
    expect(again.created).toBe(key.created);
  }, 30_000);

  it('signs messages and typed data that verify to its address', async () => {
    const key = await loadOrCreateNodeKey(tmp(), fixed(SECRET_A), { scryptN: N });
    expect(verifyMessage('hello hub', await key.signMessage('hello hub'))).toBe(key.address);
    const domain = { name: 'Offhours', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' };
    const types = { Ping: [{ name: 'n', type: 'uint256' }] };
    expect(verifyTypedData(domain, types, { n: 7 }, await key.signTypedData(domain, types, { n: 7 }))).toBe(key.address);
  });

  it('gives callers no way to the private key: not a property, not JSON, not inspect', async () => {
    const dir = tmp();
    const key = await loadOrCreateNodeKey(dir, fixed(SECRET_A), { scryptN: N });
    expect(Object.keys(key).sort()).toEqual(['address', 'created', 'keystore', 'signMessage', 'signTypedData']);
    expect(Object.getOwnPropertyNames(key).sort()).toEqual(['address', 'created', 'keystore', 'signMessage', 'signTypedData']);
    expect(Object.isFrozen(key)).toBe(true);
    expect(JSON.parse(JSON.stringify(key))).toEqual({ address: key.address, keystore: 'app-secret', created: key.created });
    expect(inspect(key, { depth: 10, showHidden: true })).not.toMatch(/privateKey|0x[0-9a-f]{64}/);
    expect((key as unknown as Record<string, unknown>).privateKey).toBeUndefined();
  });

  it('keeps a keystore that its secret does not open aside, says it is a new identity, and only then makes a new key', async () => {
    const dir = tmp();
    const old = await loadOrCreateNodeKey(dir, fixed(SECRET_A), { scryptN: N });
    const oldJson = readFileSync(join(dir, 'node-key.json'), 'utf8');
    const problems: NodeKeyProblem[] = [];
    const next = await loadOrCreateNodeKey(dir, fixed(SECRET_B), { scryptN: N, now: () => new Date('2026-03-04T05:06:07Z'), onProblem: (p) => problems.push(p) });
    expect(next.address).not.toBe(old.address);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.keptAs).toBe('node-key.unreadable-2026-03-04T05-06-07Z.json');
    expect(problems[0]!.text).toMatch(/its secret does not open it/);
    expect(problems[0]!.text).toMatch(/new node/);
    // The old keystore is intact under its dated name and still opens with the old secret.
    expect(readFileSync(join(dir, problems[0]!.keptAs), 'utf8')).toBe(oldJson);
    expect(readFileSync(join(dir, 'node-key.json'), 'utf8')).not.toBe(oldJson);
    // From now on the new key is the node key: it reopens without another replacement.
    const reopened = await loadOrCreateNodeKey(dir, fixed(SECRET_B), { scryptN: N, onProblem: (p) => problems.push(p) });
    expect(reopened.address).toBe(next.address);
    expect(problems).toHaveLength(1);
  });

  it('keeps a damaged keystore aside too', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'node-key.json'), '{"version":3,"crypto":', { mode: 0o600 });
    const problems: NodeKeyProblem[] = [];
    const key = await loadOrCreateNodeKey(dir, fixed(SECRET_A), { scryptN: N, onProblem: (p) => problems.push(p) });
    expect(problems[0]!.text).toMatch(/damaged/);
    expect(readFileSync(join(dir, problems[0]!.keptAs), 'utf8')).toBe('{"version":3,"crypto":');
    expect(verifyMessage('x', await key.signMessage('x'))).toBe(key.address);
  });

  it('leaves the keystore untouched when the secret cannot be had (a missing secret file is not a wrong one)', async () => {
    const dir = tmp();
    await loadOrCreateNodeKey(dir, fixed(SECRET_A), { scryptN: N });
    const before = readFileSync(join(dir, 'node-key.json'), 'utf8');
    await expect(loadOrCreateNodeKey(dir, fileSecretSource(dir), { scryptN: N })).rejects.toBeInstanceOf(SecretUnavailableError);
    expect(readdirSync(dir).sort()).toEqual(['node-key.json']);
    expect(readFileSync(join(dir, 'node-key.json'), 'utf8')).toBe(before);
  });

  it('narrows a secret file readable by others and says so', async () => {
    const dir = tmp();
    const source = fileSecretSource(dir);
    const identity = nodeIdentity(dir, source, { scryptN: N, onProblem: () => {} });
    await identity.key();
    const { chmodSync } = await import('node:fs');
    chmodSync(join(dir, 'node-key.secret'), 0o644);
    const problems: string[] = [];
    await nodeIdentity(dir, fileSecretSource(dir), { scryptN: N, onProblem: (p) => problems.push(p.code) }).key();
    expect(statSync(join(dir, 'node-key.secret')).mode & 0o777).toBe(0o600);
    expect(problems).toEqual(['node_key_secret']);
  });

  it('unlocks once however often it is asked, and retries a locked key on the next use', async () => {
    const dir = tmp();
    let calls = 0;
    const flaky: NodeKeySecretSource = {
      kind: 'app-secret',
      get: async () => {
        calls++;
        if (calls === 1) throw new SecretUnavailableError('main has not answered');
        return SECRET_A;
      },
    };
    const problems: string[] = [];
    const identity = nodeIdentity(dir, flaky, { scryptN: N, onProblem: (p) => problems.push(p.text) });
    await expect(identity.key()).rejects.toThrow(/main has not answered/);
    expect(problems[0]).toMatch(/node key is locked: main has not answered.*left as it is/);
    const [a, b] = await Promise.all([identity.key(), identity.key()]);
    expect(a).toBe(b);
    expect(calls).toBe(2);
  });

  it('inside the app asks main over the channel, for a new secret only when there is no keystore yet', async () => {
    const dir = tmp();
    const asked: boolean[] = [];
    const source = deferredAppSecretSource();
    const pending = loadOrCreateNodeKey(dir, source, { scryptN: N });
    source.attach({ requestNodeKeySecret: async (create) => (asked.push(create), SECRET_A) });
    const first = await pending;
    expect((await loadOrCreateNodeKey(dir, source, { scryptN: N })).address).toBe(first.address);
    expect(asked).toEqual([true, false]);
    expect(readdirSync(dir)).toEqual(['node-key.json']);
  });
});
