// The ledger under SIGKILL: a real child process appends in a loop and is killed at random points,
// 100 times over the same data directory. After each kill nothing it reported as committed may be
// missing, no id may appear twice, and the aggregates must equal a recomputation from the raw log.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, ledgerPaths } from '../../agent/ledger/ledger.js';
import { readJournal } from '../../agent/journal.js';
import type { EarningsQuery, LedgerEntry } from '../../protocol/index.js';
import { repoRoot } from '../support/agent-process.js';
import { logEntries, oracleReport, reportBuckets } from '../support/ledger-oracle.js';

const writerSource = join(repoRoot, 'tests', 'support', 'ledger-writer.ts');
let work: string;
let command: string[];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'offhours-ledger-crash-'));
  // Bundled once so each of the 100 children starts in ~0.1 s instead of ~0.5 s through tsx.
  const esbuild = join(repoRoot, 'node_modules', '.bin', 'esbuild');
  const bundle = join(work, 'writer.mjs');
  const built = existsSync(esbuild) && spawnSync(esbuild, [writerSource, '--bundle', '--platform=node', '--format=esm', `--outfile=${bundle}`, '--log-level=error']).status === 0;
  command = built ? [bundle] : ['--import', 'tsx', writerSource];
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Kills `delayMs` after the writer is ready, or after it was spawned (so also mid-open) if `early`. */
function runAndKill(dataDir: string, first: number, seed: number, delayMs: number, early: boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...command, dataDir, String(first), String(seed)], { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined = early ? setTimeout(() => child.kill('SIGKILL'), delayMs) : undefined;
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      if (!timer && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited with ${code}: ${err}`));
      // Only whole lines were reported after a durable append; a cut-off last line proves nothing.
      const lines = out.split('\n').slice(0, -1).filter((l) => l !== 'ready');
      resolve(lines.flatMap((l) => l.split(' ')));
    });
  });
}

describe('ledger crash safety (real process, SIGKILL)', () => {
  it('loses no committed entry and duplicates none over 100 kills', { timeout: 120_000 }, async () => {
    const dataDir = join(work, 'data');
    const committed = new Set<string>();
    let first = 0;
    for (let round = 0; round < 100; round++) {
      const early = round % 5 === 4;
      const ids = await runAndKill(dataDir, first, round + 1, early ? 30 + Math.floor(Math.random() * 120) : Math.floor(Math.random() * 40), early);
      for (const id of ids) committed.add(id);
      first += 1000;

      const raw = readJournal<LedgerEntry>(ledgerPaths(dataDir).log);
      expect(raw.damagedLines).toEqual([]);
      const rawIds = raw.entries.map((e) => e.data.id);
      expect(new Set(rawIds).size, 'an id appears twice in the log').toBe(rawIds.length);
      const onDisk = new Set(rawIds);
      const lost = [...committed].filter((id) => !onDisk.has(id));
      expect(lost, `round ${round}: committed but lost`).toEqual([]);

      const ledger = Ledger.open(dataDir);
      try {
        expect(readdirSync(join(dataDir, 'history')).filter((n) => n.endsWith('.tmp')), 'a snapshot temp file was left behind').toEqual([]);
        expect(ledger.count).toBe(rawIds.length);
        const q: EarningsQuery = { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', groupBy: 'day', by: 'job', timeZone: 'Europe/London' };
        const report = ledger.query(q);
        const oracle = oracleReport(logEntries(ledgerPaths(dataDir).log), q);
        expect(reportBuckets(report)).toEqual(oracle.buckets);
        expect(report.totals).toEqual(oracle.totals);
      } finally {
        ledger.close();
      }
    }
    expect(committed.size).toBeGreaterThan(100);
  });
});
