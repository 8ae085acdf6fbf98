// A child process for the ledger crash test: appends small batches forever and prints each id on
// stdout only after the append that holds it has returned (is durable). Some batches repeat ids
// committed before, to check that a retry after a crash adds nothing twice.
// argv: dataDir, first id number, seed.
import { Ledger } from '../../agent/ledger/ledger.js';
import type { LedgerEntry } from '../../protocol/index.js';

const [dataDir, firstArg, seedArg] = process.argv.slice(2);
let next = Number(firstArg);
let seed = Number(seedArg) >>> 0 || 1;
const rand = (n: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};

function entry(n: number): LedgerEntry {
  const hour = Date.UTC(2026, 9, 20) + (n % 500) * 3_600_000;
  const at = new Date(hour + (n % 60) * 60_000).toISOString();
  if (n % 3 === 2) {
    return { type: 'energy', id: `c-${n}`, from: at, at: new Date(hour + 3_599_000).toISOString(), jobId: `job-${n % 7}`, device: 'gpu:0', mwh: 1000 + n, basis: 'measured', cost: `0.${String(n % 1000).padStart(3, '0')}`, currency: 'EUR', tariffId: null };
  }
  return { type: 'earning', id: `c-${n}`, at, network: `net-${n % 2}`, jobId: `job-${n % 7}`, device: 'gpu:0', amount: `${n % 5}.${n % 100}`, token: 'USDC', fiatValue: n % 4 === 0 ? null : { currency: 'EUR', amount: `${n % 5}.1` }, proof: { kind: 'voucher', ref: `v-${n}`, status: 'verified' } };
}

const ledger = Ledger.open(dataDir!, { snapshotEveryBytes: 4096 });
process.stdout.write('ready\n');
for (;;) {
  const batch: LedgerEntry[] = [];
  const size = 1 + rand(4);
  for (let i = 0; i < size; i++) batch.push(entry(next++));
  if (next > 10 && rand(3) === 0) batch.push(entry(rand(next)));
  ledger.appendMany(batch);
  process.stdout.write(`${batch.map((e) => e.id).join(' ')}\n`);
}
