// The node key: a random secp256k1 key that identifies this node to hubs and signs its protocol
// requests. It is made from 32 random bytes as a plain Wallet, never an HD wallet: an HD wallet's
// keystore also stores its mnemonic, and this key must never have a seed phrase. It lives only in
// an encrypted keystore (scrypt); the private key stays inside this module, and callers get an
// address and signing functions.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { encryptKeystoreJson, Wallet, type TypedDataDomain, type TypedDataField } from 'ethers';
import { NODE_KEY_FILES, type KeystoreSecret } from '../../protocol/node.js';
import { fileStamp, writeFileAtomic } from '../fs-util.js';
import type { NodeKeySecretSource } from './secret-source.js';

export interface NodeKey {
  readonly address: string;
  readonly keystore: KeystoreSecret;
  /** When the keystore was written: the node's identity dates from then. */
  readonly created: string;
  /** EIP-191 personal_sign. */
  signMessage(text: string): Promise<string>;
  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
}

export interface NodeKeyProblem {
  code: 'node_key_replaced';
  text: string;
  keptAs: string;
}

export interface NodeKeyOptions {
  now?: () => Date;
  onProblem?: (problem: NodeKeyProblem) => void;
  /** scrypt's cost; tests lower it. ethers' default (2^17, ~0.5 s) otherwise. */
  scryptN?: number;
}

export const DEFAULT_SCRYPT_N = 2 ** 17;

/** Only closures hold the wallet: no property, getter or JSON form of the result reaches the key. */
function sealed(wallet: Wallet, keystore: KeystoreSecret, created: string): NodeKey {
  return Object.freeze({
    address: wallet.address,
    keystore,
    created,
    signMessage: (text: string) => wallet.signMessage(text),
    signTypedData: (domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>) =>
      wallet.signTypedData(domain, types, value),
  });
}

function readKeystore(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function create(path: string, secret: string, n: number): Promise<Wallet> {
  const wallet = new Wallet(`0x${randomBytes(32).toString('hex')}`);
  // No mnemonic goes in: the keystore holds the key alone (no x-ethers.mnemonicCiphertext).
  const json = await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, secret, { scrypt: { N: n } });
  writeFileAtomic(path, json, 0o600);
  return wallet;
}

const createdAt = (path: string): string => statSync(path).mtime.toISOString();

/**
 * Opens the node keystore in `dataDir`, or makes one on first use. Decryption runs scrypt (about
 * half a second, off the event loop in ethers' async path): call this once and keep the result.
 *
 * A keystore that does not open (wrong secret, damaged file) is moved aside under a dated name and
 * reported before a new key is made: a new key is a new node identity, so it is never made over
 * the old one. A secret that cannot be had at all (SecretUnavailableError) leaves everything as it
 * is and rejects.
 */
export async function loadOrCreateNodeKey(dataDir: string, secretSource: NodeKeySecretSource, opts: NodeKeyOptions = {}): Promise<NodeKey> {
  const now = opts.now ?? (() => new Date());
  const n = opts.scryptN ?? DEFAULT_SCRYPT_N;
  const path = join(dataDir, NODE_KEY_FILES.keystore);
  const existing = readKeystore(path);
  const secret = await secretSource.get({ create: existing === null });
  if (existing === null) {
    const wallet = await create(path, secret, n);
    return sealed(wallet, secretSource.kind, createdAt(path));
  }
  let reason: string;
  try {
    const opened = await Wallet.fromEncryptedJson(existing, secret);
    // Rebuilt from the key alone, so nothing else (a mnemonic, were one ever there) travels on.
    return sealed(new Wallet(opened.privateKey), secretSource.kind, createdAt(path));
  } catch (err) {
    reason = /incorrect password/i.test(String(err)) ? 'its secret does not open it' : 'the file is damaged';
  }
  const keptAs = `node-key.unreadable-${fileStamp(now())}.json`;
  renameSync(path, join(dataDir, keptAs));
  opts.onProblem?.({
    code: 'node_key_replaced',
    keptAs,
    text:
      `The node key could not be unlocked because ${reason}. It was kept as ${keptAs} and Offhours made a new node key: ` +
      'to the hubs this computer is now a new node, and work, reputation and sessions under the old address stay with the old key.',
  });
  const wallet = await create(path, secret, n);
  return sealed(wallet, secretSource.kind, createdAt(path));
}
