// Node sign-in: a one-time challenge, signed with the node key (EIP-191 personal_sign of
// signInMessage), traded for a short-lived bearer token. Challenges and sessions live in the
// database, not in memory, so any hub process sharing a Postgres server can finish a sign-in
// another began, and a restarted hub keeps its sessions.
import { createHash, randomBytes } from 'node:crypto';
import { verifyMessage } from 'ethers';
import { signInMessage, type SignInChallenge, type SignInRequest, type Session } from '../protocol/index.js';
import type { Db } from './db/db.js';
import { iso, type Clock } from './clock.js';

export const CHALLENGE_TTL_MS = 5 * 60_000;
export const SESSION_TTL_MS = 15 * 60_000;

export class AuthError extends Error {
  constructor(
    readonly code: 'challenge_invalid' | 'signature_invalid' | 'unauthorized',
    message: string,
  ) {
    super(message);
  }
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class NodeAuth {
  // Verified tokens, so a busy node's every call does not cost a query. Sessions are never revoked
  // before expiry today; when they can be, this cache needs a short TTL or must go.
  private readonly cache = new Map<string, { address: string; expiresMs: number }>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    /** The hub's origin as it names itself in challenges (known once it listens). */
    private readonly hubUrl: () => string,
  ) {}

  async challenge(address: string): Promise<SignInChallenge> {
    const now = this.clock.now();
    const c: SignInChallenge = {
      hub: this.hubUrl(),
      address,
      nonce: `0x${randomBytes(32).toString('hex')}`,
      issuedAt: iso(now),
      expiresAt: iso(now + CHALLENGE_TTL_MS),
    };
    await this.db.query('insert into auth_challenges (nonce, address, hub, issued_at, expires_at, expires_ms) values ($1, $2, $3, $4, $5, $6)', [
      c.nonce,
      address.toLowerCase(),
      c.hub,
      c.issuedAt,
      c.expiresAt,
      now + CHALLENGE_TTL_MS,
    ]);
    return c;
  }

  async signIn(req: SignInRequest): Promise<Session> {
    const address = req.address.toLowerCase();
    // Deleting is what spends the nonce: of two racing sign-ins with one nonce, one gets the row.
    // It is spent even when the signature turns out wrong, so a nonce is never worth a second guess.
    const { rows } = await this.db.query<{ address: string; hub: string; issued_at: string; expires_at: string; expires_ms: number }>(
      'delete from auth_challenges where nonce = $1 returning address, hub, issued_at, expires_at, expires_ms',
      [req.nonce],
    );
    const row = rows[0];
    const now = this.clock.now();
    if (!row || row.address !== address) throw new AuthError('challenge_invalid', 'unknown or already used challenge');
    if (Number(row.expires_ms) < now) throw new AuthError('challenge_invalid', 'the challenge has expired; ask for a new one');
    const message = signInMessage({ hub: row.hub, address: req.address, nonce: req.nonce, issuedAt: row.issued_at, expiresAt: row.expires_at });
    let signer: string;
    try {
      signer = verifyMessage(message, req.signature);
    } catch {
      throw new AuthError('signature_invalid', 'the signature does not verify');
    }
    if (signer.toLowerCase() !== address) throw new AuthError('signature_invalid', 'the signature is not by this address');
    const token = randomBytes(32).toString('base64url');
    const expiresMs = now + SESSION_TTL_MS;
    await this.db.query('insert into sessions (token_hash, address, expires_ms) values ($1, $2, $3)', [hashToken(token), address, expiresMs]);
    return { token, expiresAt: iso(expiresMs) };
  }

  /** The node address a bearer token stands for, or an AuthError. */
  async authenticate(token: string): Promise<string> {
    const hash = hashToken(token);
    const now = this.clock.now();
    let s = this.cache.get(hash);
    if (!s) {
      const { rows } = await this.db.query<{ address: string; expires_ms: number }>('select address, expires_ms from sessions where token_hash = $1', [hash]);
      if (rows[0]) {
        s = { address: rows[0].address, expiresMs: Number(rows[0].expires_ms) };
        if (this.cache.size > 100_000) this.cache.clear();
        this.cache.set(hash, s);
      }
    }
    if (!s || s.expiresMs < now) throw new AuthError('unauthorized', 'missing, unknown or expired session token; sign in again');
    return s.address;
  }

  async sweep(): Promise<void> {
    const now = this.clock.now();
    await this.db.query('delete from auth_challenges where expires_ms < $1', [now]);
    await this.db.query('delete from sessions where expires_ms < $1', [now]);
    for (const [k, v] of this.cache) if (v.expiresMs < now) this.cache.delete(k);
  }
}
