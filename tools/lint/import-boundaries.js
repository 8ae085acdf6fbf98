// Local ESLint plugin: the allowed import edges between the top-level folders, as DESIGN.md
// ("The house", "Allowed imports") lists them. The table below is the rule; keep it and DESIGN.md
// in step. Plain ESM JavaScript so that eslint.config.js loads it without a build step.
//
// What is checked, in every linted file: import declarations (type-only ones too: a type from
// agent/ in renderer/ is still a dependency on agent/), `export … from`, `import x = require()`,
// `import('…')` types, dynamic `import()` with a literal specifier, and `require()` calls.
// A relative specifier is resolved against the importing file to find the folder it lands in;
// a bare specifier is a package (or a Node built-in).
import path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The repo root: the folder that holds eslint.config.js (this file lives in tools/lint/). */
export const DEFAULT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Marks a folder that may import anything (tests, benchmarks, dev tooling). */
export const ANYTHING = '*';

/**
 * Which folders each folder may import, besides itself. An entry 'a/b' allows only that part of
 * a/ (the folder a/b/ or a module a/b.ts). Nothing that is not listed is allowed.
 */
export const ALLOWED_IMPORTS = Object.freeze({
  main: Object.freeze(['protocol']),
  renderer: Object.freeze(['protocol']),
  agent: Object.freeze(['protocol']),
  workers: Object.freeze(['protocol']),
  protocol: Object.freeze([]),
  // workers/seal is the hashing core that hub/ needs to commit to uploads; the rest of workers/ is not.
  hub: Object.freeze(['protocol', 'workers/seal']),
  // `offhours commp FILE` hashes in the CLI's own process with the same core the hub uses.
  cli: Object.freeze(['agent', 'hub', 'protocol', 'workers/seal']),
  tests: ANYTHING,
  bench: ANYTHING,
  // Dev-only scripts and lint rules; never shipped.
  tools: ANYTHING,
});

/** Folders that may import the 'electron' package (and 'electron/…'). */
export const ELECTRON_ALLOWED = Object.freeze(['main', 'tests', 'bench', 'tools']);

/** Folders whose code runs in a browser: no Node built-ins, no Node-only packages. */
export const BROWSER_FOLDERS = Object.freeze({
  renderer: 'renderer/ runs in the browser',
  protocol: 'protocol/ also runs in the browser and does no I/O',
});

/** Packages that need Node or do I/O, refused in BROWSER_FOLDERS like the built-ins. */
export const NODE_ONLY_PACKAGES = Object.freeze(['ws', 'lowdb', 'node-pty', 'systeminformation']);

/**
 * Folders that hold no code, only assets (icons, the benchmark scene, tariff presets); any folder
 * may import a non-code file from them (e.g. an icon through Vite), never a code file.
 */
export const ASSET_FOLDERS = Object.freeze(['resources']);

const CODE_EXTENSIONS = new Set(['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs']);
const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')));
const DOC = "see DESIGN.md 'Allowed imports'";
const DOC_HOUSE = "see DESIGN.md 'The house'";

/** Is this specifier a Node built-in ('node:fs', 'fs', 'fs/promises')? */
export function isNodeBuiltin(specifier) {
  if (specifier.startsWith('node:')) return true;
  if (BUILTINS.has(specifier)) return true;
  const slash = specifier.indexOf('/');
  return slash > 0 && BUILTINS.has(specifier.slice(0, slash));
}

/** The package name of a bare specifier: 'react-dom/client' -> 'react-dom', '@a/b/c' -> '@a/b'. */
export function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isRelative(specifier) {
  return specifier === '.' || specifier === '..' || specifier.startsWith('./') || specifier.startsWith('../');
}

/**
 * Where a path lies in the repo: { kind: 'folder', folder, segments } for a file under a
 * top-level folder, { kind: 'root', segments } for a file at the root itself, { kind: 'outside' }.
 */
export function locate(absPath, root) {
  const rel = path.relative(root, absPath);
  if (rel === '') return { kind: 'root', segments: [] };
  if (rel.startsWith('..') || path.isAbsolute(rel)) return { kind: 'outside' };
  const segments = rel.split(/[\\/]+/);
  if (segments.length === 1) return { kind: 'root', segments };
  return { kind: 'folder', folder: segments[0], segments };
}

function stripExtension(name) {
  const ext = path.extname(name);
  return ext ? name.slice(0, -ext.length) : name;
}

/** Does the target (segments under the repo root) fall inside the allowed entry 'a' or 'a/b'? */
function entryCovers(entry, segments) {
  const want = entry.split('/');
  for (let i = 0; i < want.length; i++) {
    const have = segments[i];
    if (have === undefined) return false;
    // The last named part may be the folder itself or a module with that name (workers/seal.ts).
    const last = i === want.length - 1;
    if (have !== want[i] && !(last && stripExtension(have) === want[i])) return false;
  }
  return true;
}

/** How a target reads in a message: 'agent/', or one level deeper when the table splits the folder. */
function describeTarget(segments, allowed) {
  const [top, second] = segments;
  const split = Array.isArray(allowed) && allowed.some((e) => e.startsWith(`${top}/`));
  if (split && second !== undefined) return segments.length > 2 ? `${top}/${second}/` : `${top}/${second}`;
  return `${top}/`;
}

function describeAllowed(folder, allowed) {
  if (allowed.length === 0) return `nothing outside ${folder}/`;
  return allowed.map((e) => `${e}/`).join(', ');
}

/**
 * The check itself, without ESLint around it: returns null when `specifier` imported from
 * `filename` is allowed, or { messageId, data } when it is not.
 */
export function checkImport(filename, specifier, options = {}) {
  const root = options.root ?? DEFAULT_ROOT;
  const table = options.allowed ?? ALLOWED_IMPORTS;
  const assetFolders = options.assetFolders ?? ASSET_FOLDERS;
  const nodeOnly = options.nodeOnlyPackages ?? NODE_ONLY_PACKAGES;

  const from = locate(filename, root);
  // Files outside the repo, and root-level config files (vite.config.ts, eslint.config.js), are
  // build tooling: unrestricted, except that nothing reaches outside the repo by path.
  const fromFolder = from.kind === 'folder' ? from.folder : null;
  const fromLabel = fromFolder === null ? 'a root file' : `${fromFolder}/`;
  if (from.kind === 'outside') return null;
  const known = fromFolder !== null && Object.hasOwn(table, fromFolder);
  const allowed = fromFolder === null ? ANYTHING : known ? table[fromFolder] : [];

  // ---- a path into the repo ---------------------------------------------------------------
  const clean = specifier.replace(/[?#].*$/, '');
  if (isRelative(clean) || path.isAbsolute(clean)) {
    const target = locate(path.resolve(path.dirname(filename), clean), root);
    if (target.kind === 'outside') {
      return { messageId: 'outsideRepo', data: { from: fromLabel, specifier } };
    }
    if (target.kind === 'root') {
      if (allowed === ANYTHING) return null;
      return {
        messageId: 'forbiddenEdge',
        data: { from: fromLabel, to: `the root file ${target.segments.join('/') || '.'}`, allowed: describeAllowed(fromFolder, allowed) },
      };
    }
    if (target.folder === fromFolder) return null;
    if (allowed === ANYTHING) return null;
    if (assetFolders.includes(target.folder)) {
      if (!CODE_EXTENSIONS.has(path.extname(target.segments[target.segments.length - 1]))) return null;
      return { messageId: 'assetCode', data: { from: fromLabel, to: `${target.folder}/`, specifier } };
    }
    if (allowed.some((entry) => entryCovers(entry, target.segments))) return null;
    if (!known) {
      return { messageId: 'unknownFolder', data: { from: fromLabel, to: describeTarget(target.segments, allowed) } };
    }
    return {
      messageId: 'forbiddenEdge',
      data: { from: fromLabel, to: describeTarget(target.segments, allowed), allowed: describeAllowed(fromFolder, allowed) },
    };
  }

  // ---- a package or a Node built-in ---------------------------------------------------------
  if (fromFolder === null) return null;
  if (packageName(clean) === 'electron' && !ELECTRON_ALLOWED.includes(fromFolder)) {
    return { messageId: 'electron', data: { from: fromLabel, specifier } };
  }
  if (Object.hasOwn(BROWSER_FOLDERS, fromFolder)) {
    if (isNodeBuiltin(clean)) {
      return { messageId: 'nodeBuiltin', data: { from: fromLabel, specifier, why: BROWSER_FOLDERS[fromFolder] } };
    }
    if (nodeOnly.includes(packageName(clean))) {
      return { messageId: 'nodeOnlyPackage', data: { from: fromLabel, specifier, why: BROWSER_FOLDERS[fromFolder] } };
    }
  }
  return null;
}

/** The specifier of `require('x')`, `import('x')`, or null when it is not a plain string. */
function literalValue(node) {
  if (!node) return null;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0].value.cooked;
  return null;
}

/** @type {import('eslint').Rule.RuleModule} */
export const importBoundaries = {
  meta: {
    type: 'problem',
    docs: {
      description: "Enforce the allowed import edges between top-level folders (DESIGN.md 'Allowed imports')",
    },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string', description: 'Absolute path of the repo root (the folder holding eslint.config.js).' },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      forbiddenEdge: `{{from}} may not import {{to}} (allowed: {{allowed}}) — ${DOC}`,
      unknownFolder: `{{from}} is not in the table of allowed imports, so it may not import {{to}}; add the folder to tools/lint/import-boundaries.js and DESIGN.md first — ${DOC}`,
      outsideRepo: `{{from}} may not import '{{specifier}}': it resolves outside the repo — ${DOC}`,
      assetCode: `{{from}} may not import '{{specifier}}': {{to}} holds assets, not code — ${DOC_HOUSE}`,
      electron: `{{from}} may not import '{{specifier}}': only main/ imports electron — ${DOC}`,
      nodeBuiltin: `{{from}} may not import the Node built-in '{{specifier}}': {{why}} — ${DOC_HOUSE}`,
      nodeOnlyPackage: `{{from}} may not import '{{specifier}}', which needs Node or does I/O: {{why}} — ${DOC_HOUSE}`,
    },
  },
  create(context) {
    const filename = context.physicalFilename ?? context.filename;
    // Text linted without a path (stdin without --stdin-filename) has no folder to check.
    if (!filename || !path.isAbsolute(filename)) return {};
    const root = context.options[0]?.root ?? DEFAULT_ROOT;

    function check(sourceNode, specifier) {
      if (specifier === null) return;
      const problem = checkImport(filename, specifier, { root });
      if (problem) context.report({ node: sourceNode, ...problem });
    }

    return {
      ImportDeclaration(node) {
        check(node.source, literalValue(node.source));
      },
      ExportNamedDeclaration(node) {
        if (node.source) check(node.source, literalValue(node.source));
      },
      ExportAllDeclaration(node) {
        check(node.source, literalValue(node.source));
      },
      ImportExpression(node) {
        check(node.source, literalValue(node.source));
      },
      CallExpression(node) {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments.length > 0) {
          check(node.arguments[0], literalValue(node.arguments[0]));
        }
      },
      // TypeScript: `import x = require('…')` and `type T = import('…').T`.
      TSExternalModuleReference(node) {
        check(node.expression, literalValue(node.expression));
      },
      TSImportType(node) {
        // typescript-eslint >= 8.x has `source`; older versions only a TSLiteralType `argument`.
        let arg = node.source;
        if (!arg) arg = node.argument?.type === 'TSLiteralType' ? node.argument.literal : node.argument;
        check(arg, literalValue(arg));
      },
    };
  },
};

/** The plugin as eslint.config.js registers it: `plugins: { offhours }`, rule 'offhours/import-boundaries'. */
const plugin = {
  meta: { name: 'offhours-lint', version: '0.1.0' },
  rules: { 'import-boundaries': importBoundaries },
};

export default plugin;
