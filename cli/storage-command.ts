// `offhours storage …`: the local driver for shared disk, through the running agent's API (the
// agent does the work, under the rules; this only asks and reports).
//   storage set --folder DIR --cap 100G    choose the folder and how much of it may be used
//   storage list [--json]                  the disk numbers and the pieces
//   storage add FILE [--no-wait]           store and seal a file as a local piece
//   storage prove CID [--challenges N]     challenge a piece and verify the proofs
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Ingest, ProveResult, Settings, StorageView, type StorageSettings } from '../protocol/index.js';
import { resolveDataDirFromArgs } from '../agent/args.js';
import { CliError, EXIT, callAgent, findAgent } from './api-client.js';

export const STORAGE_HELP = `  storage set --folder DIR --cap SIZE   share up to SIZE (e.g. 100G, 500M) of DIR's disk
  storage list [--json]                 disk numbers and stored pieces
  storage add FILE [--no-wait]          store and seal FILE as a local piece (waits for your rules)
  storage prove CID [--challenges N]    challenge a stored piece and verify its proofs (exit 1 if any fail)`;

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "100G", "512M", "1.5T", "1000000": binary units, as file managers mostly show them. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) throw new CliError(`not a size: ${text} (use e.g. 100G or 500M)`, EXIT.usage);
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

function describe(view: StorageView): string {
  const lines: string[] = [];
  if (!view.settings.folder) lines.push('No storage folder is set (offhours storage set --folder DIR --cap SIZE).');
  else if (view.problem) lines.push(view.problem);
  else if (view.disk) {
    const d = view.disk;
    lines.push(`Folder ${d.folder}: ${formatBytes(d.usedBytes)} used of ${formatBytes(view.settings.capBytes)} allowed; ${formatBytes(d.availableBytes)} may still be stored.`);
    lines.push(`Disk: ${formatBytes(d.freeBytes)} free of ${formatBytes(d.totalBytes)}; ${formatBytes(d.reserveBytes)} is always left free.`);
  }
  for (const p of view.pieces) {
    const proof = p.lastProof ? `, last proof ${p.lastProof.passed}/${p.lastProof.challenges}` : '';
    lines.push(`${p.cid}  ${p.state}  ${formatBytes(p.payloadSize)} (piece ${formatBytes(p.paddedSize)})${proof}`);
  }
  for (const i of view.ingests.filter((x) => x.state !== 'done')) lines.push(`adding ${i.file}: ${i.state}${i.reason ? ` (${i.reason})` : ''}`);
  return lines.join('\n');
}

export async function runStorageCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      folder: { type: 'string' },
      cap: { type: 'string' },
      challenges: { type: 'string' },
      'no-wait': { type: 'boolean', default: false },
    },
  });
  const dataDir = resolveDataDirFromArgs(values['data-dir']).path;
  const endpoint = findAgent(dataDir);
  const call = <T>(method: 'GET' | 'POST' | 'PATCH', path: string, schema: import('zod').ZodType<T>, body?: unknown) => callAgent(endpoint, dataDir, method, path, schema, body);
  switch (sub) {
    case 'set': {
      if (!values.folder || !values.cap) throw new CliError('storage set needs --folder DIR and --cap SIZE', EXIT.usage);
      const storage: StorageSettings = { folder: resolve(values.folder), capBytes: parseSize(values.cap) };
      await call('PATCH', '/settings', Settings, { storage });
      out(describe(await call('GET', '/storage', StorageView)));
      return EXIT.ok;
    }
    case 'list': {
      const view = await call('GET', '/storage', StorageView);
      out(values.json ? JSON.stringify(view, null, 2) : describe(view));
      return EXIT.ok;
    }
    case 'add': {
      const file = positionals[0];
      if (!file) throw new CliError('storage add needs a FILE', EXIT.usage);
      let ingest = await call('POST', '/storage/pieces', Ingest, { file: resolve(file) });
      if (values['no-wait']) {
        out(`Queued ${ingest.file} (${ingest.id}).`);
        return EXIT.ok;
      }
      let said = '';
      while (ingest.state !== 'done' && ingest.state !== 'failed') {
        const line = `${ingest.state}${ingest.reason ? `: ${ingest.reason}` : ''}`;
        if (line !== said) out((said = line));
        await new Promise((r) => setTimeout(r, 500));
        const view = await call('GET', '/storage', StorageView);
        ingest = view.ingests.find((i) => i.id === ingest.id) ?? { ...ingest, state: 'failed', reason: 'the agent forgot this file (restarted?)' };
      }
      if (ingest.state === 'failed') {
        out(ingest.reason ?? 'Storing failed.');
        return EXIT.failed;
      }
      out(`${ingest.cid}${ingest.reason ? ` (${ingest.reason})` : ''}`);
      return EXIT.ok;
    }
    case 'prove': {
      const cid = positionals[0];
      if (!cid) throw new CliError('storage prove needs a piece CID', EXIT.usage);
      const challenges = values.challenges === undefined ? 5 : Number(values.challenges);
      if (!Number.isInteger(challenges) || challenges < 1) throw new CliError('--challenges must be a positive whole number', EXIT.usage);
      const r = await call('POST', `/storage/pieces/${encodeURIComponent(cid)}/prove`, ProveResult, { challenges });
      if (values.json) out(JSON.stringify(r, null, 2));
      else out(`${r.passed}/${r.challenges} proofs verified against ${r.cid}${r.problem ? `: ${r.problem}` : ''}`);
      return r.passed === r.challenges ? EXIT.ok : EXIT.failed;
    }
    default:
      throw new CliError(`unknown storage command: ${sub ?? '(none)'}\n${STORAGE_HELP}`, EXIT.usage);
  }
}
