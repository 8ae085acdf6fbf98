// `offhours job …`: a customer's render jobs on a hub, and `offhours hub status`: the operator's view.
//   job submit render SCENE.blend --frames 1-24 [--samples N] [--resolution WxH] [--price MINOR] [--name NAME]
//   job status ID [--json]     job fetch ID DIR     job list [--json]
// The hub comes from --hub or $OFFHOURS_HUB_URL, the customer key from the file named by
// --key-file or $OFFHOURS_HUB_KEY_FILE: never from the command line itself, where `ps` shows it.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MinorUnits, SubmitRenderJob, hubUrlProblem, refHex, type FrameState, type HubJobView, type HubStatusView, type JobFrameView } from '../protocol/index.js';
import { resolveDataDirFromArgs } from '../agent/args.js';
import { CliError, EXIT } from './api-client.js';
import { HubCustomer, hashFile } from './hub-customer.js';
import { ProgressBar, bar } from './progress-bar.js';
import { formatBytes } from './storage-command.js';

export const JOB_HELP = `  job submit render SCENE.blend --frames 1-24 [--samples 64] [--resolution 1920x1080] [--price MINOR] [--name NAME]
                        upload a scene to a hub (resumable) and queue a render job; prints its id
  job status ID [--json]                per-frame states and progress of a job
  job fetch ID DIR                      download every verified frame into DIR as frame-0001.png ... (checked, resumable)
  job cancel ID                         withdraw the frames not yet handed in (those handed in are still checked and paid)
  job list [--json]                     your jobs on the hub
     (jobs and hub status: --hub URL or $OFFHOURS_HUB_URL, --key-file FILE or $OFFHOURS_HUB_KEY_FILE;
      default: the local hub at http://127.0.0.1:8787 with the key it wrote to DATA_DIR/hub/customer-key)`;

export const HUB_STATUS_HELP = `  hub status [--json]                   the hub at a glance: providers online, queue, jobs, failures, money owed
  hub redeem [--json]                   the hub pays every voucher owed through the escrow, in one batch (needs payments.rpcUrl)`;

const LOCAL_HUB = 'http://127.0.0.1:8787';
/** A rendered frame is a PNG; even a 65,536-pixel-square 16-bit RGBA one is below this. */
const MAX_FRAME_BYTES = 40 * 1024 ** 3;

const HUB_OPTIONS = {
  hub: { type: 'string' },
  'key-file': { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

interface HubValues {
  hub?: string;
  'key-file'?: string;
  'data-dir'?: string;
}

/** A key on the command line would be visible to every user of the machine through `ps`. */
export function refuseKeyArguments(argv: string[]): void {
  for (const a of argv) {
    const name = /^--(key|token|customer-key|api-key)(=|$)/.exec(a)?.[1];
    if (name) throw new CliError(`--${name} is not accepted: a key on the command line shows in "ps". Put it in a file readable only by you and pass --key-file FILE (or set OFFHOURS_HUB_KEY_FILE).`, EXIT.usage);
  }
}

export function readKeyFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      `Cannot read the customer key file ${file}${code === 'ENOENT' ? ': it does not exist' : `: ${(err as Error).message}`}. The hub's operator finds the key in the hub's data directory (customer-key).`,
      EXIT.usage,
    );
  }
  const key = text.trim();
  // The same shape the hub accepts as a bearer token; anything else would only be refused there.
  if (!/^[A-Za-z0-9._~+/=-]{16,512}$/.test(key)) throw new CliError(`The file ${file} does not hold a customer key (one line of 16-512 letters, digits and ._~+/=-).`, EXIT.usage);
  return key;
}

/** The hub and its key, from flags, then the environment, then the local hub's own files (job and store commands). */
export function hubFromArgs(values: HubValues, env: NodeJS.ProcessEnv = process.env): { url: string; key: string } {
  const given = values.hub ?? (env.OFFHOURS_HUB_URL || undefined);
  const url = given ?? LOCAL_HUB;
  const problem = hubUrlProblem(url);
  if (problem) throw new CliError(`The hub URL ${url} cannot be used: ${problem}.`, EXIT.usage);
  let keyFile = values['key-file'] ?? (env.OFFHOURS_HUB_KEY_FILE || undefined);
  if (keyFile === undefined) {
    // Only for the local default hub: a key file of this machine's hub must never go to a hub someone named.
    const local = join(resolveDataDirFromArgs(values['data-dir'], env).path, 'hub', 'customer-key');
    if (given === undefined && existsSync(local)) keyFile = local;
    else
      throw new CliError(
        given === undefined
          ? `No hub given: pass --hub URL and --key-file FILE (or set OFFHOURS_HUB_URL and OFFHOURS_HUB_KEY_FILE); no local hub's key was found at ${local}.`
          : `No customer key for ${url}: pass --key-file FILE (or set OFFHOURS_HUB_KEY_FILE). The key is never taken on the command line.`,
        EXIT.usage,
      );
  }
  return { url, key: readKeyFile(resolve(keyFile)) };
}

export function customerFromArgs(values: HubValues, env: NodeJS.ProcessEnv = process.env): HubCustomer {
  return new HubCustomer(hubFromArgs(values, env));
}

export function parseFrames(text: string): { start: number; end: number } {
  const m = /^(\d{1,7})(?:\s*[-:]\s*(\d{1,7}))?$/.exec(text.trim());
  if (!m) throw new CliError(`--frames wants a frame or a range such as 1-24, not ${text}`, EXIT.usage);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (end < start) throw new CliError(`--frames ${text}: the range ends before it starts`, EXIT.usage);
  return { start, end };
}

export function parseResolution(text: string): { x: number; y: number } {
  const m = /^(\d{1,5})\s*[xX×]\s*(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new CliError(`--resolution wants WIDTHxHEIGHT such as 1920x1080, not ${text}`, EXIT.usage);
  return { x: Number(m[1]), y: Number(m[2]) };
}

function positiveInt(text: string, flag: string): number {
  if (!/^\d{1,9}$/.test(text.trim()) || Number(text) < 1) throw new CliError(`${flag} wants a positive whole number, not ${text}`, EXIT.usage);
  return Number(text);
}

/** The only name a frame is ever written under: built from its number, never from hub text. */
export function frameFileName(frame: number): string {
  if (!Number.isSafeInteger(frame) || frame < 0 || frame > 1_048_574) throw new CliError(`The hub named a frame ${frame}, which no job can have.`, EXIT.failed);
  return `frame-${String(frame).padStart(4, '0')}.png`;
}

const STATE_ORDER: FrameState[] = ['verified', 'checking', 'rendered', 'leased', 'open', 'failed'];

function frameRuns(frames: JobFrameView[]): string[] {
  const sorted = [...frames].sort((a, b) => a.frame - b.frame);
  const lines: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1]!.state === sorted[i]!.state && sorted[j + 1]!.frame === sorted[j]!.frame + 1) j++;
    const a = sorted[i]!.frame;
    const b = sorted[j]!.frame;
    lines.push(`  ${a === b ? `frame ${a}` : `frames ${a}-${b}`}: ${sorted[i]!.state}`);
    i = j + 1;
  }
  return lines;
}

export function describeJob(job: HubJobView): string {
  const total = job.counts.total || job.frames.length;
  const byState = new Map<FrameState, number>();
  for (const f of job.frames) byState.set(f.state, (byState.get(f.state) ?? 0) + 1);
  const lines = [
    `Job ${job.id} "${job.name}": ${job.state}; ${job.counts.verified} of ${total} frames verified${job.counts.failed ? `, ${job.counts.failed} failed` : ''}`,
    `${bar(total > 0 ? job.counts.verified / total : 0)} ${total > 0 ? Math.floor((job.counts.verified / total) * 100) : 0}%  (${STATE_ORDER.filter((s) => byState.has(s))
      .map((s) => `${byState.get(s)} ${s}`)
      .join(', ')})`,
    `Scene ${job.scene}, ${job.settings.resolutionX}x${job.settings.resolutionY}, ${job.settings.samples} samples, ${job.pricePerFrame} minor units per frame; created ${job.createdAt}${job.finishedAt ? `, finished ${job.finishedAt}` : ''}`,
  ];
  if (job.frames.length <= 100) {
    for (const f of [...job.frames].sort((a, b) => a.frame - b.frame)) {
      lines.push(`  frame ${String(f.frame).padStart(4)}  ${f.state.padEnd(8)}${f.provider ? `  by ${f.provider}` : ''}${f.attempts > 1 ? `  (${f.attempts} attempts)` : ''}`.trimEnd());
    }
  } else {
    lines.push(...frameRuns(job.frames));
  }
  for (const f of job.frames) {
    for (const x of f.failures.slice(-3)) lines.push(`  frame ${f.frame}: a result by ${x.provider} was refused (${x.reason}${x.detail ? `: ${x.detail}` : ''})`);
  }
  return lines.join('\n');
}

export function describeHubStatus(s: HubStatusView, origin: string): string {
  const lines = [
    `Hub ${origin}`,
    `Providers: ${s.providersOnline} online of ${s.providers} registered`,
    `Queue: ${s.queue.open} open, ${s.queue.leased} leased, ${s.queue.checking} being checked`,
    `Jobs: ${s.jobs.running} running, ${s.jobs.done} done, ${s.jobs.failed} failed`,
    `Refused results in the last 24 h: ${s.failures24h}`,
  ];
  if (s.payments) {
    const p = s.payments;
    lines.push(`Payments: ${p.tokenSymbol} (${p.token}) from ${p.payer}`);
    lines.push(`  owed by vouchers: ${p.owed} minor units; escrow balance: ${p.escrowBalance ?? 'unknown (the hub cannot read the chain)'}${p.escrowBalance !== null && BigInt(p.escrowBalance) < BigInt(p.owed) ? '  (check: the deposit may not cover what is unredeemed)' : ''}`);
  } else {
    lines.push('Payments: not configured (providers earn nothing here)');
  }
  return lines.join('\n');
}

async function submit(customer: HubCustomer, positionals: string[], values: Record<string, string | boolean | undefined>, out: (s: string) => void): Promise<number> {
  const [kind, sceneArg, ...extra] = positionals;
  if (kind !== 'render' || !sceneArg || extra.length > 0) throw new CliError('usage: offhours job submit render SCENE.blend --frames 1-24 [--samples N] [--resolution WxH] [--price MINOR] [--name NAME]', EXIT.usage);
  if (typeof values.frames !== 'string') throw new CliError('job submit needs --frames (e.g. --frames 1-24)', EXIT.usage);
  const scene = resolve(sceneArg);
  let size: number;
  try {
    const st = await stat(scene);
    if (!st.isFile()) throw new CliError(`${scene} is not a file`, EXIT.usage);
    size = st.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`Cannot read the scene ${scene}: ${(err as Error).message}`, EXIT.usage);
  }
  if (size === 0) throw new CliError(`${scene} is empty`, EXIT.usage);
  const res = parseResolution(typeof values.resolution === 'string' ? values.resolution : '1920x1080');
  const samples = typeof values.samples === 'string' ? positiveInt(values.samples, '--samples') : 64;
  if (typeof values.price === 'string' && !MinorUnits.safeParse(values.price).success) throw new CliError(`--price wants whole minor units of the hub's token (e.g. 25000 for 0.025 USDC), not ${values.price}`, EXIT.usage);
  const draft = {
    kind: 'render' as const,
    name: typeof values.name === 'string' ? values.name : basename(scene),
    scene: `sha256:${'0'.repeat(64)}`,
    frames: parseFrames(values.frames),
    settings: { engine: 'cycles' as const, samples, resolutionX: res.x, resolutionY: res.y },
    ...(typeof values.price === 'string' ? { pricePerFrame: values.price } : {}),
  };
  // Checked before hashing and uploading gigabytes for a job the hub would refuse anyway.
  const checked = SubmitRenderJob.safeParse(draft);
  if (!checked.success) {
    const i = checked.error.issues[0];
    throw new CliError(`That job cannot be submitted: ${i ? `${i.path.join('.') || 'job'}: ${i.message}` : 'invalid'}`, EXIT.usage);
  }

  const hashing = new ProgressBar({ label: 'Hashing  ', total: size, unit: 'bytes' });
  const hex = await hashFile(scene, (n) => hashing.update(n));
  hashing.finish();
  const before = await customer.blobStatus(hex);
  if (before.complete) {
    process.stderr.write(`The hub already has this scene (sha256:${hex}); nothing to upload.\n`);
  } else {
    if (before.received > 0) process.stderr.write(`Resuming the upload at ${formatBytes(before.received)} of ${formatBytes(size)}.\n`);
    const uploading = new ProgressBar({ label: 'Uploading', total: size, unit: 'bytes' });
    const r = await customer.upload(scene, hex, (n) => uploading.update(n), before);
    uploading.finish();
    process.stderr.write(`Uploaded ${r.sent} bytes (${formatBytes(r.sent)}) of ${size}${r.resumedAt > 0 ? `, resumed at byte ${r.resumedAt}` : ''}.\n`);
  }
  const job = await customer.submit({ ...checked.data, scene: `sha256:${hex}` });
  process.stderr.write(`Job ${job.id} queued: ${job.counts.total || job.frames.length} frames of ${job.name} at ${job.pricePerFrame} minor units each.\n`);
  out(job.id);
  return EXIT.ok;
}

async function fetchFrames(customer: HubCustomer, id: string, dirArg: string, out: (s: string) => void): Promise<number> {
  const job = await customer.job(id);
  const dir = resolve(dirArg);
  await mkdir(dir, { recursive: true });
  const verified = job.frames.filter((f) => f.state === 'verified' && f.result !== null);
  let fetched = 0;
  let kept = 0;
  // One bar for the job, by frames: frames are small and many, and a bar each would flood a log.
  const progress = new ProgressBar({ label: 'Fetching', total: verified.length, unit: 'count' });
  for (const f of verified.sort((a, b) => a.frame - b.frame)) {
    progress.update(fetched + kept);
    const name = frameFileName(f.frame);
    const dest = join(dir, name);
    const part = `${dest}.part`;
    const hex = refHex(f.result!);
    // A finished file that still hashes right is not fetched again.
    if (existsSync(dest) && (await hashFile(dest)) === hex) {
      kept++;
      continue;
    }
    const info = await customer.blobStatus(hex);
    if (!info.complete) throw new CliError(`The hub lists frame ${f.frame} as verified but does not hold its result ${f.result}.`, EXIT.failed);
    const max = Math.min(info.received, MAX_FRAME_BYTES);
    let r = await customer.download(hex, part, max);
    if (!r.verified && r.resumedAt > 0) {
      // The bytes kept from an earlier run were not the start of this blob: start over once.
      await unlink(part).catch(() => undefined);
      r = await customer.download(hex, part, max);
    }
    if (!r.verified) {
      await unlink(part).catch(() => undefined);
      throw new CliError(`Frame ${f.frame} from the hub does not match its SHA-256 ${f.result}; nothing was kept.`, EXIT.failed);
    }
    await rename(part, dest);
    fetched++;
  }
  if (verified.length > 0) {
    progress.update(fetched + kept);
    progress.finish();
  }
  const total = job.counts.total || job.frames.length;
  out(`${fetched} frame${fetched === 1 ? '' : 's'} downloaded, ${kept} already here; ${verified.length} of ${total} frames verified so far (into ${dir}).`);
  if (verified.length < total && job.state === 'running') out('Run this again when more frames are verified.');
  return EXIT.ok;
}

export async function runJobCommand(argv: string[], out: (s: string) => void): Promise<number> {
  refuseKeyArguments(argv);
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      ...HUB_OPTIONS,
      json: { type: 'boolean', default: false },
      frames: { type: 'string' },
      samples: { type: 'string' },
      resolution: { type: 'string' },
      price: { type: 'string' },
      name: { type: 'string' },
    },
  });
  switch (sub) {
    case 'submit':
      return submit(customerFromArgs(values), positionals, values, out);
    case 'status': {
      if (positionals.length !== 1) throw new CliError('usage: offhours job status ID [--json]', EXIT.usage);
      const job = await customerFromArgs(values).job(positionals[0]!);
      out(values.json ? JSON.stringify(job, null, 2) : describeJob(job));
      return EXIT.ok;
    }
    case 'fetch': {
      if (positionals.length !== 2) throw new CliError('usage: offhours job fetch ID DIR', EXIT.usage);
      return fetchFrames(customerFromArgs(values), positionals[0]!, positionals[1]!, out);
    }
    case 'cancel': {
      if (positionals.length !== 1) throw new CliError('usage: offhours job cancel ID', EXIT.usage);
      const job = await customerFromArgs(values).cancel(positionals[0]!);
      out(values.json ? JSON.stringify(job, null, 2) : `Job ${job.id} canceled: ${job.counts.verified} of ${job.counts.total} frames verified; frames already handed in are still checked and paid.`);
      return EXIT.ok;
    }
    case 'list': {
      if (positionals.length !== 0) throw new CliError('usage: offhours job list [--json]', EXIT.usage);
      const list = await customerFromArgs(values).jobs();
      if (values.json) out(JSON.stringify(list, null, 2));
      else if (list.jobs.length === 0) out('No jobs on this hub yet.');
      else for (const j of list.jobs) out(`${j.id}  ${j.state.padEnd(7)}  ${String(j.counts.verified).padStart(5)}/${j.counts.total} verified  ${j.name}`);
      return EXIT.ok;
    }
    default:
      throw new CliError(`unknown job command: ${sub ?? '(none)'}\n${JOB_HELP}`, EXIT.usage);
  }
}

export async function runHubStatusCommand(argv: string[], out: (s: string) => void): Promise<number> {
  refuseKeyArguments(argv);
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...HUB_OPTIONS, json: { type: 'boolean', default: false } } });
  if (positionals.length > 0) throw new CliError('usage: offhours hub status [--hub URL --key-file FILE] [--json]', EXIT.usage);
  const customer = customerFromArgs(values);
  const s = await customer.status();
  out(values.json ? JSON.stringify(s, null, 2) : describeHubStatus(s, customer.origin));
  return EXIT.ok;
}

export async function runHubRedeemCommand(argv: string[], out: (s: string) => void): Promise<number> {
  refuseKeyArguments(argv);
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...HUB_OPTIONS, json: { type: 'boolean', default: false } } });
  if (positionals.length > 0) throw new CliError('usage: offhours hub redeem [--hub URL --key-file FILE] [--json]', EXIT.usage);
  const r = await customerFromArgs(values).redeem();
  if (values.json) out(JSON.stringify(r, null, 2));
  else if (r.txHash === null) out(`Nothing owed on chain: every voucher is paid in full.${r.skipped.length ? ` ${r.skipped.length} expired, waiting for their nodes to have them re-signed.` : ''}`);
  else {
    out(`Redeemed in ${r.txHash}: ${r.paid} minor units to ${r.redeemed.length} payout address(es).`);
    for (const x of r.redeemed) out(`  ${x.payee}  ${x.amount}`);
    for (const x of r.skipped) out(`  skipped ${x.payee}: ${x.reason}`);
  }
  return EXIT.ok;
}
