// What unlocks the node keystore. The agent starts unattended, so nobody types a password: inside
// the desktop app main keeps the secret with Electron's safeStorage (the OS keychain) and hands it
// over on request; a headless agent keeps it in a file beside the keystore that only its
// permissions protect (the README says so).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_KEY_FILES, type KeystoreSecret } from '../../protocol/node.js';
import { createSecretFile, makeOwnerOnly } from '../fs-util.js';

/** The secret cannot be had: the keystore stays locked and untouched (it is not damaged). */
export class SecretUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretUnavailableError';
  }
}

export interface NodeKeySecretSource {
  readonly kind: KeystoreSecret;
  /** `create` is false while a keystore exists: a fresh secret could never open it. */
  get(opts: { create: boolean }): Promise<string>;
  /** Set when the source had to repair something the user should hear about. */
  readonly notice?: () => string | null;
}

const SECRET = /^[0-9a-f]{64}$/;

export function fileSecretSource(dataDir: string): NodeKeySecretSource {
  const path = join(dataDir, NODE_KEY_FILES.secret);
  let notice: string | null = null;
  return {
    kind: 'file-secret',
    notice: () => notice,
    get({ create }) {
      if (create) {
        try {
          const secret = createSecretFile(path);
          if (secret !== null) return Promise.resolve(secret);
        } catch (err) {
          return Promise.reject(err as Error);
        }
      }
      let text: string;
      try {
        text = readFileSync(path, 'utf8').trim();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return Promise.reject(err as Error);
        return Promise.reject(
          new SecretUnavailableError(
            `the node key's secret file ${NODE_KEY_FILES.secret} is missing (was this data directory used by the desktop app, which keeps the secret in the system keychain?)`,
          ),
        );
      }
      if (makeOwnerOnly(path)) notice = `The node key's secret file ${NODE_KEY_FILES.secret} was readable by other users; Offhours made it private.`;
      if (!SECRET.test(text)) return Promise.reject(new SecretUnavailableError(`the node key's secret file ${NODE_KEY_FILES.secret} is damaged`));
      return Promise.resolve(text);
    },
  };
}

/** What the app source needs from the parent channel. */
export interface SecretChannel {
  requestNodeKeySecret(create: boolean): Promise<string>;
}

/** Inside the app: asks main, once the parent channel is up (it comes after the API listens). */
export function deferredAppSecretSource(): NodeKeySecretSource & { attach(channel: SecretChannel): void } {
  let attach!: (c: SecretChannel) => void;
  const ready = new Promise<SecretChannel>((resolve) => (attach = resolve));
  return {
    kind: 'app-secret',
    attach: (channel) => attach(channel),
    async get({ create }) {
      try {
        return await (await ready).requestNodeKeySecret(create);
      } catch (err) {
        throw new SecretUnavailableError(`the desktop app could not provide the node key's secret: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    },
  };
}
