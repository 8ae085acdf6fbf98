// The node key as the running agent holds it: unlocked on first use (scrypt is slow, so once), and
// the reasons it cannot be, kept for status. A locked key is retried on the next use, because the
// desktop app may hand over the secret later than the first request.
import { loadOrCreateNodeKey, type NodeKey, type NodeKeyOptions, type NodeKeyProblem } from './node-key.js';
import type { NodeKeySecretSource } from './secret-source.js';

export interface NodeIdentity {
  /** The unlocked key; rejects (with the reason) while it cannot be unlocked. */
  key(): Promise<NodeKey>;
  /** Resolves when no unlock is in flight (the agent waits for it before it lets go of the data directory). */
  idle(): Promise<void>;
}

export interface NodeIdentityOptions extends Omit<NodeKeyOptions, 'onProblem'> {
  onProblem(problem: NodeKeyProblem | { code: 'node_key_locked' | 'node_key_secret'; text: string }): void;
}

export function nodeIdentity(dataDir: string, source: NodeKeySecretSource, opts: NodeIdentityOptions): NodeIdentity {
  let pending: Promise<NodeKey> | null = null;
  let lastLockedText: string | null = null;
  return {
    key() {
      pending ??= loadOrCreateNodeKey(dataDir, source, { ...opts, onProblem: opts.onProblem }).then(
        (key) => {
          const notice = source.notice?.();
          if (notice) opts.onProblem({ code: 'node_key_secret', text: notice });
          return key;
        },
        (err: unknown) => {
          pending = null;
          const text = `The node key is locked: ${err instanceof Error ? err.message : String(err)}. Offhours cannot sign in to hubs until it is unlocked; the key file was left as it is.`;
          if (text !== lastLockedText) opts.onProblem({ code: 'node_key_locked', text });
          lastLockedText = text;
          throw err;
        },
      );
      return pending;
    },
    async idle() {
      await pending?.catch(() => undefined);
    },
  };
}
