#!/usr/bin/env node
// `npm run demo`: builds the app when dist/ is missing or older than the sources (the demo starts
// the built `offhours agent`, as a user would), then runs tools/demo/demo.ts through tsx, the way
// bench/run.mjs runs TypeScript benches. Arguments pass through (--exit-when-done, --frames N, --keep).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const built = join(root, 'dist', 'cli', 'offhours.js');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (/\.(ts|tsx|py)$/.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

// OFFHOURS_DEMO_BUILD=never: use dist/ as it is (the test suite built it, and a rebuild would
// delete it under other tests' feet).
const sources = process.env.OFFHOURS_DEMO_BUILD === 'never' ? 0 : Math.max(...['agent', 'cli', 'protocol', 'workers', 'hub', 'renderer', 'resources'].map((d) => newest(join(root, d))));
if (!existsSync(built) || statSync(built).mtimeMs < sources) {
  process.stderr.write('demo: building the app first (npm run build)...\n');
  const b = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
// Ctrl-C reaches the demo too (same process group); this one waits for it to clean up and exit.
process.on('SIGINT', () => {});
const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'tools', 'demo', 'demo.ts'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? (r.signal === 'SIGINT' ? 130 : 1));
