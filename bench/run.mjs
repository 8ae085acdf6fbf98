#!/usr/bin/env node
// Runs every bench/*.bench.{mjs,ts} in turn. Each prints JSON lines
// {"metric","value","unit","baseline","ratio"}, the baseline measured in the same run.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
let failed = 0;
for (const file of readdirSync(here).filter((f) => /\.bench\.m?[jt]s$/.test(f)).sort()) {
  if (only && !file.includes(only)) continue;
  process.stderr.write(`# ${file}\n`);
  // TypeScript benches import the sources directly (through tsx); .mjs ones drive the build.
  const args = file.endsWith('.ts') ? ['--import', 'tsx', join(here, file)] : [join(here, file)];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
