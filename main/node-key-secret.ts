// Main's half of the node key: the keystore's secret, kept in the data directory encrypted with
// Electron's safeStorage (the OS keychain: Keychain, DPAPI, libsecret/kwallet), handed to the agent
// when it asks. The agent starts unattended and nobody types a password, so this is what stands
// between another program reading the data directory and the node key. Electron-free: safeStorage
// is injected.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { MainToAgent } from '../protocol/worker-channel.js';
import type { NodeKeySecretRequest } from './agent-supervisor.js';

/** The part of Electron's safeStorage used here. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: 'basic_text' means no keychain, a key built into Chromium. */
  getSelectedStorageBackend?(): string;
}

const SECRET = /^[0-9a-f]{64}$/;

export class AppNodeKeySecret {
  /** One keychain round trip per app run: macOS may ask the user each time. */
  private secret: Promise<string> | null = null;

  constructor(
    private readonly deps: { safeStorage: SafeStorageLike; path: string; log(message: string): void },
  ) {}

  async answer(request: NodeKeySecretRequest): Promise<MainToAgent> {
    try {
      this.secret ??= this.load(request.create);
      return { type: 'node-key-secret', requestId: request.requestId, secret: await this.secret };
    } catch (error) {
      // A later request (say, after the user unlocked the keychain) tries again.
      this.secret = null;
      return { type: 'node-key-secret-failed', requestId: request.requestId, error: error instanceof Error ? error.message : String(error) };
    }
  }

  private async load(create: boolean): Promise<string> {
    const { safeStorage, path, log } = this.deps;
    if (!safeStorage.isEncryptionAvailable()) throw new Error('the system keychain is not available to Offhours');
    if (safeStorage.getSelectedStorageBackend?.() === 'basic_text') {
      log('no system keychain (safeStorage uses basic_text): the node key secret is protected only by the data directory’s permissions');
    }
    let stored: Buffer | null = null;
    try {
      stored = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (stored !== null) {
      let secret: string;
      try {
        secret = safeStorage.decryptString(stored);
      } catch (error) {
        throw new Error(`the system keychain could not decrypt the node key's secret (${String(error)}); was the keychain reset?`, { cause: error });
      }
      if (!SECRET.test(secret)) throw new Error("the stored node key secret is damaged");
      return secret;
    }
    // Without the stored secret an existing keystore cannot be opened; a new secret would only
    // lead the agent to replace the node's identity.
    if (!create) throw new Error("the node key's secret is missing from the data directory (node-key.app-secret)");
    const secret = randomBytes(32).toString('hex');
    await writeFile(path, safeStorage.encryptString(secret), { flag: 'wx', mode: 0o600 });
    log('made a new node key secret, kept with the system keychain');
    return secret;
  }
}
