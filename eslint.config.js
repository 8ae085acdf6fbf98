// ESLint flat config. Rules that catch bugs, not style: formatting is nobody's lint error here.
// typescript-eslint without type information, so `eslint .` stays fast on two cores.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import offhours from './tools/lint/import-boundaries.js';

const root = import.meta.dirname;

const CODE = '**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}';
const NODE_FOLDERS = ['main', 'agent', 'workers', 'cli', 'hub', 'tests', 'bench', 'tools'];
const at = (folders) => folders.map((f) => `${f}/${CODE}`);

// Node's own globals, which neither the browser nor protocol/ have (the TypeScript types include
// @types/node everywhere, so tsc alone would not catch `process.env` in the dashboard).
const nodeOnlyGlobals = ['process', 'Buffer', '__dirname', '__filename', 'require', 'module', 'exports', 'global', 'setImmediate', 'clearImmediate'].map(
  (name) => ({ name, message: `${name} is a Node global; this code runs in the browser — see DESIGN.md 'The house'.` }),
);
const ioGlobals = ['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'localStorage', 'sessionStorage', 'indexedDB'].map((name) => ({
  name,
  message: `protocol/ does no I/O: ${name} belongs to the code that uses the contract — see DESIGN.md 'The house'.`,
}));

export default defineConfig(
  globalIgnores(['dist/', 'release/', 'node_modules/', 'test-artifacts/', '.tmp/', 'coverage/']),

  {
    name: 'offhours/base',
    files: [CODE],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      globals: { ...globals['shared-node-browser'] },
    },
    rules: {
      // Unused code is usually a bug; a leading underscore says "on purpose".
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Best-effort cleanup (`try { unlinkSync(x) } catch {}`) is a legitimate empty catch.
      'no-empty': ['error', { allowEmptyCatch: true }],
      // Bug catchers that @eslint/js leaves out of recommended.
      'no-self-compare': 'error',
      'no-unmodified-loop-condition': 'error',
      'no-unreachable-loop': 'error',
      'no-constructor-return': 'error',
    },
  },

  // Where each folder runs.
  {
    name: 'offhours/node',
    files: [...at(NODE_FOLDERS), `*.{ts,mts,cts,js,mjs,cjs}`],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The preload and the tests (renderer tests in happy-dom, e2e page callbacks) also see a DOM.
    name: 'offhours/node-and-browser',
    files: [`main/preload.{ts,js}`, ...at(['tests'])],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    // Tests read arbitrary JSON off the wire and assert on it; typing every probe adds nothing.
    name: 'offhours/tests',
    files: at(['tests', 'bench']),
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    name: 'offhours/browser',
    files: at(['renderer']),
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-globals': ['error', ...nodeOnlyGlobals] },
  },
  {
    name: 'offhours/protocol',
    files: at(['protocol']),
    rules: { 'no-restricted-globals': ['error', ...nodeOnlyGlobals, ...ioGlobals] },
  },

  // Which folder may import which: the table in tools/lint/import-boundaries.js.
  {
    name: 'offhours/import-boundaries',
    files: [CODE],
    plugins: { offhours },
    rules: { 'offhours/import-boundaries': ['error', { root }] },
  },
);
