// `offhours store …`: store a file on a hub as N replicas and get it back.
//   store put FILE [--replicas 3] [--days 30] [--name NAME]
//                                                 encrypt, upload, and have the hub place each replica
//                                                 for that many days
//   store get ID FILE [--wait 10m]                fetch a healthy replica, decrypt, check, write FILE
//
// Every replica is encrypted with its own random key (AES-256-GCM in 1 MiB chunks, a nonce prefix
// per replica), so the providers hold distinct bytes, none of them sees the plaintext, and one copy
// cannot pass for several. The keys never leave this machine: they are kept, readable only by this
// user, in <data dir>/customer/store-keys/<fileId>.json. The hub comes from --hub or
// $OFFHOURS_HUB_URL, the customer key from --key-file or $OFFHOURS_HUB_KEY_FILE.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ContentRef, DEFAULT_STORE_DAYS, HubId, MAX_REPLICAS, MAX_STORE_DAYS, PieceCidText, StoreFileRequest, StoredFileName, refHex } from '../protocol/index.js';
import { resolveDataDirFromArgs } from '../agent/args.js';
import { commpFile } from '../workers/seal/commp.js';
import { CliError, EXIT } from './api-client.js';
import { HubCustomer, hashFile } from './hub-customer.js';
import { hubFromArgs, refuseKeyArguments } from './job-command.js';
import { ProgressBar } from './progress-bar.js';
import { parseDuration } from './duration.js';
import { StoreClient } from './store-client.js';

export const STORE_HELP = `  store put FILE [--replicas 3] [--days 30] [--name NAME]
                        encrypt FILE once per replica (each with its own key, kept on this machine)
                        and store the replicas on a hub's providers for --days (1 to ${MAX_STORE_DAYS});
                        prints the file id
  store get ID FILE [--wait 10m]
                        fetch a healthy replica, decrypt it, check it and write FILE
     (--hub URL or $OFFHOURS_HUB_URL, --key-file FILE or $OFFHOURS_HUB_KEY_FILE)`;

// ---- the replica format ------------------------------------------------------------------------

const MAGIC = Buffer.from('OFFHOURS-STORE-1', 'ascii');
/** Magic, then 48 random bytes: the first 8 are the replica's nonce prefix. 64 bytes in all, so even
 * an empty file makes a replica above the 65-byte minimum a piece needs. */
const HEADER_BYTES = 64;
export const CHUNK_BYTES = 1024 * 1024;
const TAG_BYTES = 16;

function nonce(header: Buffer, index: number): Buffer {
  const n = Buffer.alloc(12);
  header.copy(n, 0, MAGIC.length, MAGIC.length + 8);
  n.writeUInt32BE(index, 8);
  return n;
}

/** Chunk index and whether it is the last: a reordered, dropped or cut-off chunk fails its tag. */
function aad(header: Buffer, index: number, last: boolean): Buffer {
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(index, 0);
  tail[4] = last ? 1 : 0;
  return Buffer.concat([header, tail]);
}

/** Encrypts `from` into `to` with `key`; returns the ciphertext's SHA-256 and size. */
export async function encryptFile(from: string, to: string, key: Buffer, onProgress?: (n: number) => void): Promise<{ sha256: string; bytes: number }> {
  const size = (await stat(from)).size;
  const header = Buffer.concat([MAGIC, randomBytes(HEADER_BYTES - MAGIC.length)]);
  const input = await open(from, 'r');
  const output = await open(to, 'wx', 0o600);
  const hash = createHash('sha256');
  let bytes = 0;
  const write = async (b: Buffer) => {
    hash.update(b);
    bytes += b.length;
    await output.write(b);
  };
  try {
    await write(header);
    const chunks = Math.max(1, Math.ceil(size / CHUNK_BYTES));
    const buf = Buffer.alloc(CHUNK_BYTES);
    for (let i = 0; i < chunks; i++) {
      const want = Math.min(CHUNK_BYTES, size - i * CHUNK_BYTES);
      let got = 0;
      while (got < want) {
        const r = await input.read(buf, got, want - got, i * CHUNK_BYTES + got);
        if (r.bytesRead === 0) throw new CliError(`${from} shrank while it was being encrypted.`, EXIT.failed);
        got += r.bytesRead;
      }
      const cipher = createCipheriv('aes-256-gcm', key, nonce(header, i));
      cipher.setAAD(aad(header, i, i === chunks - 1));
      await write(Buffer.concat([cipher.update(buf.subarray(0, want)), cipher.final(), cipher.getAuthTag()]));
      onProgress?.(i * CHUNK_BYTES + want);
    }
    await output.sync();
  } finally {
    await input.close();
    await output.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Decrypts `from` into `to` (created new); throws if any chunk fails its tag (wrong key, changed bytes). */
export async function decryptFile(from: string, to: string, key: Buffer): Promise<{ sha256: string; bytes: number }> {
  const size = (await stat(from)).size;
  const input = await open(from, 'r');
  const output = await open(to, 'wx', 0o600);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    if (size < HEADER_BYTES + TAG_BYTES || (await input.read(header, 0, HEADER_BYTES, 0)).bytesRead !== HEADER_BYTES || !header.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new CliError('The replica is not an Offhours store replica (wrong header).', EXIT.failed);
    }
    const body = size - HEADER_BYTES;
    const sealed = CHUNK_BYTES + TAG_BYTES;
    const chunks = Math.max(1, Math.ceil(body / sealed));
    const buf = Buffer.alloc(sealed);
    for (let i = 0; i < chunks; i++) {
      const want = Math.min(sealed, body - i * sealed);
      if (want < TAG_BYTES) throw new CliError('The replica is cut short.', EXIT.failed);
      const r = await input.read(buf, 0, want, HEADER_BYTES + i * sealed);
      if (r.bytesRead !== want) throw new CliError('The replica is cut short.', EXIT.failed);
      const decipher = createDecipheriv('aes-256-gcm', key, nonce(header, i));
      decipher.setAAD(aad(header, i, i === chunks - 1));
      decipher.setAuthTag(buf.subarray(want - TAG_BYTES, want));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(buf.subarray(0, want - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new CliError(`The replica does not decrypt with this key (chunk ${i} fails its check): wrong key, or changed bytes.`, EXIT.failed);
      }
      hash.update(plain);
      bytes += plain.length;
      await output.write(plain);
    }
    await output.sync();
  } finally {
    await input.close();
    await output.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

// ---- the key file ------------------------------------------------------------------------------

export const StoreKeyFile = z
  .object({
    version: z.literal(1),
    fileId: HubId,
    hub: z.string(),
    name: StoredFileName,
    bytes: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    replicas: z
      .array(z.object({ keyIndex: z.number().int().min(0), key: z.string().regex(/^[0-9a-f]{64}$/), blob: ContentRef, pieceCid: PieceCidText, bytes: z.number().int() }).strict())
      .min(1)
      .max(MAX_REPLICAS),
  })
  .strict();
export type StoreKeyFile = z.infer<typeof StoreKeyFile>;

export function storeKeysDir(dataDir: string): string {
  return join(dataDir, 'customer', 'store-keys');
}

/** Written aside and renamed, readable only by this user. */
async function writePrivate(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  const fh = await open(tmp, 'r');
  await fh.sync().finally(() => fh.close());
  await rename(tmp, path);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- put and get -------------------------------------------------------------------------------

async function put(
  hub: { url: string; key: string },
  dataDir: string,
  fileArg: string,
  replicas: number,
  days: number,
  nameArg: string | undefined,
  out: (s: string) => void,
): Promise<number> {
  const file = resolve(fileArg);
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new CliError(`${file} is not a regular file`, EXIT.usage);
    size = st.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`Cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
  const name = StoredFileName.safeParse(nameArg ?? basename(file));
  if (!name.success) throw new CliError(`That name cannot be stored: ${name.error.issues[0]?.message ?? 'invalid'}`, EXIT.usage);
  const customer = new HubCustomer({ url: hub.url, key: hub.key });
  const client = new StoreClient(hub.url, hub.key);
  const keysDir = storeKeysDir(dataDir);
  await mkdir(keysDir, { recursive: true, mode: 0o700 });
  const work = await mkdtemp(join(tmpdir(), 'offhours-store-'));
  try {
    const hashing = new ProgressBar({ label: 'Hashing   ', total: size, unit: 'bytes' });
    const sha256 = await hashFile(file, (n) => hashing.update(n));
    hashing.finish();
    const made: StoreKeyFile['replicas'] = [];
    for (let i = 0; i < replicas; i++) {
      const key = randomBytes(32);
      const enc = join(work, `replica-${i}`);
      const bar = new ProgressBar({ label: `Encrypting ${i + 1}/${replicas}`, total: size, unit: 'bytes' });
      const c = await encryptFile(file, enc, key, (n) => bar.update(n));
      bar.finish();
      const piece = await commpFile(enc);
      made.push({ keyIndex: i, key: key.toString('hex'), blob: `sha256:${c.sha256}`, pieceCid: piece.cidV1, bytes: c.bytes });
    }
    // The keys are on disk before anything leaves this machine: a crash later loses an upload, never a key.
    const pending = join(keysDir, `pending-${randomBytes(6).toString('hex')}.json`);
    const draft: StoreKeyFile = { version: 1, fileId: 'pending', hub: customer.origin, name: name.data, bytes: size, sha256, replicas: made };
    await writePrivate(pending, JSON.stringify(draft, null, 2));
    for (const [i, r] of made.entries()) {
      const bar = new ProgressBar({ label: `Uploading ${i + 1}/${replicas}`, total: r.bytes, unit: 'bytes' });
      await customer.upload(join(work, `replica-${i}`), refHex(r.blob), (n) => bar.update(n));
      bar.finish();
    }
    const req = StoreFileRequest.parse({ name: name.data, bytes: size, sha256, days, replicas: made.map((r) => ({ blob: r.blob, pieceCid: r.pieceCid, bytes: r.bytes })) });
    const stored = await client.store(req);
    const id = HubId.parse(stored.id);
    await writePrivate(join(keysDir, `${id}.json`), JSON.stringify({ ...draft, fileId: id }, null, 2));
    await rm(pending, { force: true });
    process.stderr.write(`Stored ${name.data} as ${id} until ${stored.until}: ${replicas} replicas, each with its own key (kept in ${join(keysDir, `${id}.json`)}).\n`);
    out(id);
    return EXIT.ok;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function get(hub: { url: string; key: string }, dataDir: string, idArg: string, fileArg: string, waitMs: number, out: (s: string) => void): Promise<number> {
  const id = HubId.safeParse(idArg);
  if (!id.success) throw new CliError(`${idArg} is not a stored file id`, EXIT.usage);
  const keyPath = join(storeKeysDir(dataDir), `${id.data}.json`);
  let keys: StoreKeyFile;
  try {
    keys = StoreKeyFile.parse(JSON.parse(await readFile(keyPath, 'utf8')));
  } catch (err) {
    throw new CliError(`No usable keys for ${id.data} at ${keyPath} (${(err as Error).message.slice(0, 200)}): only the machine that stored a file can decrypt it.`, EXIT.failed);
  }
  const target = resolve(fileArg);
  const client = new StoreClient(hub.url, hub.key);
  const customer = new HubCustomer({ url: hub.url, key: hub.key });
  const deadline = Date.now() + waitMs;
  let said = false;
  for (;;) {
    const r = await client.retrieve(id.data);
    if (r.file.sha256 !== keys.sha256 || r.file.bytes !== keys.bytes) throw new CliError(`The hub's record of ${id.data} does not match the one kept here.`, EXIT.failed);
    if (r.download) {
      const d = r.download;
      const replica = keys.replicas.find((k) => k.keyIndex === d.keyIndex);
      // The replica must be bytes this machine made: a blob it never uploaded is not decrypted.
      if (!replica || replica.blob !== d.blob || replica.bytes !== d.bytes) throw new CliError(`The hub offers a replica (${d.blob}) this machine did not store.`, EXIT.failed);
      const work = await mkdtemp(join(tmpdir(), 'offhours-store-'));
      const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.part`);
      try {
        const part = join(work, 'replica');
        const bar = new ProgressBar({ label: 'Downloading', total: d.bytes, unit: 'bytes' });
        const got = await customer.download(refHex(d.blob), part, d.bytes, (n) => bar.update(n));
        bar.finish();
        if (!got.verified) throw new CliError(`The replica the hub sent does not match ${d.blob}.`, EXIT.failed);
        const plain = await decryptFile(part, tmp, Buffer.from(replica.key, 'hex'));
        if (plain.sha256 !== keys.sha256 || plain.bytes !== keys.bytes) throw new CliError(`The decrypted file does not match its SHA-256 (${keys.sha256}); nothing was written.`, EXIT.failed);
        await rename(tmp, target);
      } finally {
        await rm(tmp, { force: true });
        await rm(work, { recursive: true, force: true });
      }
      process.stderr.write(`Wrote ${target} (${keys.bytes} bytes, SHA-256 checked) from replica ${d.replicaId}.\n`);
      out(target);
      return EXIT.ok;
    }
    if (Date.now() >= deadline) throw new CliError(`The hub has not brought a replica of ${id.data} back within the wait; try again later.`, EXIT.failed);
    if (!said) process.stderr.write('The hub is fetching a replica from a provider; waiting…\n');
    said = true;
    await sleep(Math.min(30, Math.max(1, r.retryAfterS)) * 1000);
  }
}

export async function runStoreCommand(argv: string[], out: (s: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  refuseKeyArguments(argv);
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      hub: { type: 'string' },
      'key-file': { type: 'string' },
      'data-dir': { type: 'string' },
      replicas: { type: 'string' },
      days: { type: 'string' },
      name: { type: 'string' },
      wait: { type: 'string' },
    },
  });
  const dataDir = resolveDataDirFromArgs(values['data-dir'], env).path;
  switch (sub) {
    case 'put': {
      if (positionals.length !== 1) throw new CliError('usage: offhours store put FILE [--replicas N] [--days D] [--name NAME]', EXIT.usage);
      const replicas = values.replicas === undefined ? 3 : Number(values.replicas);
      if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) throw new CliError(`--replicas must be a whole number from 1 to ${MAX_REPLICAS}`, EXIT.usage);
      const days = values.days === undefined ? DEFAULT_STORE_DAYS : /^\d{1,4}$/.test(values.days) ? Number(values.days) : NaN;
      if (!Number.isInteger(days) || days < 1 || days > MAX_STORE_DAYS) throw new CliError(`--days must be a whole number from 1 to ${MAX_STORE_DAYS}`, EXIT.usage);
      return put(hubFromArgs(values, env), dataDir, positionals[0]!, replicas, days, values.name, out);
    }
    case 'get': {
      if (positionals.length !== 2) throw new CliError('usage: offhours store get ID FILE [--wait 10m]', EXIT.usage);
      let waitMs = 10 * 60_000;
      if (values.wait !== undefined) {
        try {
          waitMs = parseDuration(values.wait);
        } catch (err) {
          throw new CliError((err as Error).message, EXIT.usage);
        }
      }
      return get(hubFromArgs(values, env), dataDir, positionals[0]!, positionals[1]!, waitMs, out);
    }
    default:
      throw new CliError(`unknown store command: ${sub ?? '(none)'}\n${STORE_HELP}`, EXIT.usage);
  }
}
