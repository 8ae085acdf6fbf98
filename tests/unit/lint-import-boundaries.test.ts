// The import-boundaries lint rule (tools/lint/import-boundaries.js) against DESIGN.md's table of
// allowed imports: every forbidden edge is reported, every allowed one passes, and the real
// eslint.config.js applies it to the repo.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { ALLOWED_IMPORTS, checkImport, importBoundaries } from '../../tools/lint/import-boundaries.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const at = (rel: string) => path.join(ROOT, ...rel.split('/'));
const options = [{ root: ROOT }];

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const tester = new RuleTester({
  languageOptions: {
    parser: tseslint.parser,
    ecmaVersion: 'latest',
    sourceType: 'module',
    parserOptions: { ecmaFeatures: { jsx: true } },
  },
});

/** The message for a forbidden edge, word for word, as a reader sees it. */
const edge = (from: string, to: string, allowed: string) =>
  `${from} may not import ${to} (allowed: ${allowed}) — see DESIGN.md 'Allowed imports'`;
const electron = (from: string, spec = 'electron') =>
  `${from} may not import '${spec}': only main/ imports electron — see DESIGN.md 'Allowed imports'`;
const builtin = (spec: string, from: 'renderer/' | 'protocol/') =>
  `${from} may not import the Node built-in '${spec}': ${
    from === 'renderer/' ? 'renderer/ runs in the browser' : 'protocol/ also runs in the browser and does no I/O'
  } — see DESIGN.md 'The house'`;

// ---- the whole matrix of the shipped folders --------------------------------------------------

const SHIPPED = ['main', 'agent', 'workers', 'renderer', 'protocol', 'cli', 'hub'] as const;
/** DESIGN.md's edges, written out here independently of the rule's table. */
const DESIGN_EDGES = new Set(['main>protocol', 'renderer>protocol', 'agent>protocol', 'workers>protocol', 'hub>protocol', 'cli>agent', 'cli>hub', 'cli>protocol']);

describe('the rule table', () => {
  it('says what DESIGN.md says', () => {
    const fromRule = new Set<string>();
    for (const [from, allowed] of Object.entries(ALLOWED_IMPORTS)) {
      if (allowed === '*') continue;
      for (const to of allowed) if (!to.includes('/')) fromRule.add(`${from}>${to}`);
    }
    expect([...fromRule].sort()).toEqual([...DESIGN_EDGES].sort());
    expect(ALLOWED_IMPORTS.hub).toContain('workers/seal');
    expect(ALLOWED_IMPORTS.tests).toBe('*');
    expect(ALLOWED_IMPORTS.bench).toBe('*');
    expect(ALLOWED_IMPORTS.tools).toBe('*');
  });

  it('allows exactly the DESIGN.md edges between shipped folders', () => {
    for (const from of SHIPPED) {
      for (const to of SHIPPED) {
        const problem = checkImport(at(`${from}/src/x.ts`), `../../${to}/index.js`, { root: ROOT });
        const allowed = from === to || DESIGN_EDGES.has(`${from}>${to}`);
        expect(problem === null, `${from} -> ${to}`).toBe(allowed);
        if (!allowed) expect(problem?.messageId, `${from} -> ${to}`).toBe('forbiddenEdge');
      }
    }
  });

  it('lets nothing but tests/, bench/ and tools/ import main/ or renderer/', () => {
    for (const target of ['main', 'renderer']) {
      for (const from of [...SHIPPED, 'scripts']) {
        if (from === target) continue;
        expect(checkImport(at(`${from}/x.ts`), `../${target}/x.js`, { root: ROOT }), `${from} -> ${target}`).not.toBeNull();
      }
      for (const from of ['tests', 'bench', 'tools']) {
        expect(checkImport(at(`${from}/unit/x.ts`), `../../${target}/x.js`, { root: ROOT }), `${from} -> ${target}`).toBeNull();
      }
    }
  });
});

// ---- the rule under RuleTester -----------------------------------------------------------------

tester.run('import-boundaries', importBoundaries, {
  valid: [
    // The DESIGN.md edges.
    { filename: at('main/main.ts'), code: "import { DEFAULT_AGENT_PORT } from '../protocol/index.js';", options },
    { filename: at('main/window/tray.ts'), code: "import { Status } from '../../protocol/api.js';", options },
    { filename: at('renderer/app.tsx'), code: "import { Status } from '../protocol/api.js';", options },
    { filename: at('agent/entry.ts'), code: "export * from '../protocol/index.js';", options },
    { filename: at('workers/render/blender.ts'), code: "import type { WorkerKind } from '../../protocol/worker-channel.js';", options },
    { filename: at('cli/offhours.ts'), code: "import { runAgent } from '../agent/entry.js';", options },
    { filename: at('cli/commands/hub.ts'), code: "const hub = await import('../../hub/server.js');", options },
    { filename: at('cli/offhours.ts'), code: "export { API_PREFIX } from '../protocol/constants.js';", options },
    // hub -> workers/seal, as a folder or as a module.
    { filename: at('hub/uploads.ts'), code: "import { commP } from '../workers/seal/commp.js';", options },
    { filename: at('hub/uploads.ts'), code: "import { commP } from '../workers/seal/index.js'; import { seal } from '../workers/seal.js';", options },
    // Within a folder, anything.
    { filename: at('agent/policy/rules.ts'), code: "import { x } from '../ledger/log.js'; import { y } from './time.js'; import { z } from '.';", options },
    { filename: at('workers/seal/worker.ts'), code: "import { runtime } from '../runtime/index.js';", options },
    { filename: at('renderer/views/Earnings.tsx'), code: "import { Chart } from '../components/Chart.js';", options },
    { filename: at('protocol/index.ts'), code: "export * from './api.js';", options },
    // tests/, bench/, tools/ -> anything, electron and Node built-ins included.
    {
      filename: at('tests/unit/main.test.ts'),
      code: "import { a } from '../../main/main.js'; import { b } from '../../renderer/App.js'; import { c } from '../../agent/x.js'; import { d } from '../../workers/render/x.js'; import 'electron'; import fs from 'node:fs';",
      options,
    },
    { filename: at('tests/e2e/app.test.ts'), code: "const r = await import('../../renderer/main.js'); const h = require('../../hub/x.js');", options },
    { filename: at('bench/commp.bench.ts'), code: "import { seal } from '../workers/seal/index.js'; import { x } from '../main/x.js';", options },
    { filename: at('tools/lint/check.mjs'), code: "import { x } from '../../renderer/x.js'; import { app } from 'electron';", options },
    // Root config files are tooling.
    { filename: at('vite.config.ts'), code: "import pkg from './package.json' with { type: 'json' }; import { r } from './renderer/x.js';", options },
    // Packages: react in renderer, pure libraries in protocol, Node and electron where they belong.
    { filename: at('renderer/main.tsx'), code: "import { createRoot } from 'react-dom/client'; import { useState } from 'react';", options },
    { filename: at('protocol/piece.ts'), code: "import { z } from 'zod'; import { sha256 } from '@noble/hashes/sha2.js';", options },
    { filename: at('main/main.ts'), code: "import { app, utilityProcess } from 'electron'; import path from 'node:path';", options },
    { filename: at('main/preload.ts'), code: "const { contextBridge } = require('electron/renderer');", options },
    { filename: at('agent/api/server.ts'), code: "import { createServer } from 'node:http'; import fs from 'fs/promises'; import { WebSocketServer } from 'ws';", options },
    { filename: at('workers/runtime/spawn.ts'), code: "import { spawn } from 'node:child_process'; import pty from 'node-pty';", options },
    // Assets (no code) from resources/.
    { filename: at('renderer/Tray.tsx'), code: "import icon from '../resources/tray/sharing.png';", options },
    // Not a literal: nothing to check.
    { filename: at('agent/plugins.ts'), code: 'const m = await import(name); const n = require(other);', options },
  ],

  invalid: [
    // electron outside main/.
    { filename: at('agent/supervisor.ts'), code: "import { utilityProcess } from 'electron';", options, errors: [{ message: electron('agent/') }] },
    { filename: at('renderer/App.tsx'), code: "import { ipcRenderer } from 'electron';", options, errors: [{ message: electron('renderer/') }] },
    { filename: at('cli/offhours.ts'), code: "const electronPath = require('electron');", options, errors: [{ message: electron('cli/') }] },
    { filename: at('workers/entry.ts'), code: "import type { MessagePortMain } from 'electron/main';", options, errors: [{ message: electron('workers/', 'electron/main') }] },
    { filename: at('protocol/ipc.ts'), code: "export type { IpcMainEvent } from 'electron';", options, errors: [{ message: electron('protocol/') }] },
    { filename: at('hub/server.ts'), code: "const e = await import('electron');", options, errors: [{ message: electron('hub/') }] },
    // renderer -> agent, in every form an import can take.
    {
      filename: at('renderer/App.tsx'),
      code: [
        "import { policy } from '../agent/policy.js';",
        "import type { Ledger } from '../agent/ledger.js';",
        "export { x } from '../agent/x.js';",
        "export * from '../agent/y.js';",
        "const m = await import('../agent/z.js');",
        'const n = await import(`../agent/t.js`);',
        "const o = require('../agent/r.js');",
        "type T = import('../agent/types.js').T;",
      ].join('\n'),
      options,
      errors: Array.from({ length: 8 }, () => ({ message: edge('renderer/', 'agent/', 'protocol/') })),
    },
    // renderer -> Node built-ins, prefixed or bare.
    {
      filename: at('renderer/Settings.tsx'),
      code: "import fs from 'node:fs'; import { join } from 'path'; import { readFile } from 'fs/promises'; import cp from 'child_process';",
      options,
      errors: [{ message: builtin('node:fs', 'renderer/') }, { message: builtin('path', 'renderer/') }, { message: builtin('fs/promises', 'renderer/') }, { message: builtin('child_process', 'renderer/') }],
    },
    { filename: at('renderer/Live.tsx'), code: "import WebSocket from 'ws';", options, errors: [{ messageId: 'nodeOnlyPackage' }] },
    // workers -> agent, with the exact wording.
    {
      filename: at('workers/render/blender.ts'),
      code: "import { ledger } from '../../agent/ledger.js';",
      options,
      errors: [{ message: "workers/ may not import agent/ (allowed: protocol/) — see DESIGN.md 'Allowed imports'" }],
    },
    // protocol -> agent, and protocol -> Node built-ins / I/O packages.
    { filename: at('protocol/api.ts'), code: "import { Settings } from '../agent/settings.js';", options, errors: [{ message: edge('protocol/', 'agent/', 'nothing outside protocol/') }] },
    {
      filename: at('protocol/piece.ts'),
      code: "import { createHash } from 'node:crypto'; import crypto from 'crypto'; import { Buffer } from 'node:buffer';",
      options,
      errors: [{ message: builtin('node:crypto', 'protocol/') }, { message: builtin('crypto', 'protocol/') }, { message: builtin('node:buffer', 'protocol/') }],
    },
    { filename: at('protocol/store.ts'), code: "import { JSONFilePreset } from 'lowdb/node';", options, errors: [{ messageId: 'nodeOnlyPackage' }] },
    // agent -> hub, agent -> main, agent -> workers.
    { filename: at('agent/network/client.ts'), code: "import { lease } from '../../hub/leases.js';", options, errors: [{ message: edge('agent/', 'hub/', 'protocol/') }] },
    { filename: at('agent/supervisor.ts'), code: "import { startWorker } from '../main/workers.js';", options, errors: [{ message: edge('agent/', 'main/', 'protocol/') }] },
    { filename: at('agent/supervisor.ts'), code: "import { seal } from '../workers/seal/index.js';", options, errors: [{ message: edge('agent/', 'workers/', 'protocol/') }] },
    // hub -> the rest of workers/.
    {
      filename: at('hub/verify.ts'),
      code: "import { render } from '../workers/render/blender.js'; import { run } from '../workers/runtime/index.js'; import '../workers/entry.js';",
      options,
      errors: [
        { message: edge('hub/', 'workers/render/', 'protocol/, workers/seal/') },
        { message: edge('hub/', 'workers/runtime/', 'protocol/, workers/seal/') },
        { message: edge('hub/', 'workers/entry.js', 'protocol/, workers/seal/') },
      ],
    },
    { filename: at('hub/db.ts'), code: "import { x } from '../agent/ledger.js';", options, errors: [{ message: edge('hub/', 'agent/', 'protocol/, workers/seal/') }] },
    // anything -> renderer.
    { filename: at('main/window.ts'), code: "import { App } from '../renderer/App.js';", options, errors: [{ message: edge('main/', 'renderer/', 'protocol/') }] },
    { filename: at('agent/api/static.ts'), code: "import '../../renderer/index.html';", options, errors: [{ message: edge('agent/', 'renderer/', 'protocol/') }] },
    { filename: at('cli/status.ts'), code: "import { format } from '../renderer/format.js';", options, errors: [{ message: edge('cli/', 'renderer/', 'agent/, hub/, protocol/, workers/seal/') }] },
    { filename: at('protocol/view.ts'), code: "export * from '../renderer/format.js';", options, errors: [{ messageId: 'forbiddenEdge' }] },
    { filename: at('hub/ui.ts'), code: "const ui = await import('../renderer/App.js');", options, errors: [{ messageId: 'forbiddenEdge' }] },
    { filename: at('workers/infer/x.ts'), code: "const f = require('../../renderer/format.js');", options, errors: [{ messageId: 'forbiddenEdge' }] },
    // cli -> main and cli -> workers are not on the list either.
    // cli may use the seal core (offhours commp), not the rest of workers/.
    { filename: at('cli/offhours.ts'), code: "import { x } from '../main/main.js'; import { y } from '../workers/render/index.js';", options, errors: [{ message: edge('cli/', 'main/', 'agent/, hub/, protocol/, workers/seal/') }, { message: edge('cli/', 'workers/render/', 'agent/, hub/, protocol/, workers/seal/') }] },
    // Nothing else: root files, paths out of the repo, code in resources/, folders not in the table.
    { filename: at('agent/version.ts'), code: "import pkg from '../package.json' with { type: 'json' };", options, errors: [{ message: edge('agent/', 'the root file package.json', 'protocol/') }] },
    { filename: at('agent/x.ts'), code: "import y from '../../elsewhere/y.js';", options, errors: [{ messageId: 'outsideRepo' }] },
    { filename: at('tests/unit/x.test.ts'), code: "import y from '../../../elsewhere/y.js';", options, errors: [{ messageId: 'outsideRepo' }] },
    { filename: at('agent/tariffs.ts'), code: "import { presets } from '../resources/tariffs.ts';", options, errors: [{ messageId: 'assetCode' }] },
    { filename: at('agent/x.ts'), code: "import { y } from '../shared/y.js';", options, errors: [{ message: edge('agent/', 'shared/', 'protocol/') }] },
    { filename: at('scripts/release.mjs'), code: "import { y } from '../agent/y.js';", options, errors: [{ messageId: 'unknownFolder' }] },
  ],
});

// ---- the real config over the real repo --------------------------------------------------------

describe('eslint.config.js', () => {
  const eslint = new ESLint({ cwd: ROOT });
  const boundary = (messages: { ruleId: string | null }[]) => messages.filter((m) => m.ruleId === 'offhours/import-boundaries');

  it('applies the rule to .ts, .tsx, .js and .mjs files', async () => {
    const cases = [
      ['workers/render/x.ts', "import { a } from '../../agent/a.js';\nexport { a };\n"],
      ['renderer/x.tsx', "import fs from 'node:fs';\nexport const el = <p>{String(fs)}</p>;\n"],
      ['agent/x.js', "import { app } from 'electron';\nexport { app };\n"],
      ['protocol/x.mjs', "export * from '../main/main.js';\n"],
    ] as const;
    for (const [file, code] of cases) {
      const [result] = await eslint.lintText(code, { filePath: at(file) });
      expect(boundary(result!.messages), file).toHaveLength(1);
    }
  });

  it('finds no boundary violation in the real protocol/ folder', async () => {
    const results = await eslint.lintFiles(['protocol']);
    expect(results.length).toBeGreaterThan(0);
    const problems = results.flatMap((r) =>
      r.messages
        .filter((m) => m.fatal || m.ruleId === 'offhours/import-boundaries' || m.ruleId === 'no-restricted-globals')
        .map((m) => `${path.relative(ROOT, r.filePath)}:${m.line}: ${m.message}`),
    );
    expect(problems).toEqual([]);
  });
});
