#!/usr/bin/env node
// Builds the CommP addon at install time. A failure here must not fail `npm install`: the seal
// worker falls back to a slower pure-JS hash, and says so when it starts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const strict = process.argv.includes('--strict');

// npm runs lifecycle scripts with its own node-gyp (npm_config_node_gyp, or node-gyp on PATH);
// outside npm we look next to the npm that runs this node.
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((c) => c && existsSync(c));
  return found ? { cmd: process.execPath, args: [found] } : { cmd: process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp', args: [] };
}

const { cmd, args } = nodeGyp();
const r = spawnSync(cmd, [...args, 'rebuild'], { cwd: here, stdio: 'inherit', shell: process.platform === 'win32' && args.length === 0 });
if (r.status !== 0) {
  const why = r.error ? r.error.message : `exit ${r.status}`;
  process.stderr.write(`offhours: could not build the CommP addon (${why}); piece commitments will use the slow JS fallback.\n`);
  process.exit(strict ? 1 : 0);
}
