// One Vite config builds everything that ships, with Vite's Environment API (`vite build --app`):
//   client  -> dist/renderer/            the React dashboard, served by the agent at `/`
//   node    -> dist/{main,agent,cli,workers}/*.js   ESM for Node and Electron main/utility processes
//   preload -> dist/main/preload.cjs      CommonJS, because a sandboxed preload cannot be ESM
// Environments rather than several configs or a plugin: one module graph per target, shared
// chunks between the node entries (protocol/ is bundled once), and one `build` command.
// Dependencies stay external in node builds: electron-builder ships node_modules, and native
// modules (node-pty) must be loaded from disk, unpacked from the asar. `npm run build` empties
// dist/ first, so chunks from an earlier build never end up in a package.
import { resolve } from 'node:path';
import { builtinModules } from 'node:module';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import pkg from './package.json' with { type: 'json' };

const here = import.meta.dirname;
const r = (p: string) => resolve(here, p);

const external = [
  'electron',
  ...Object.keys(pkg.dependencies),
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
];
const isExternal = (id: string) => external.some((e) => id === e || id.startsWith(`${e}/`));

/** The CLI is run directly (`bin`), so it needs a shebang; the other entries must not have one. */
function cliShebang(): Plugin {
  return {
    name: 'offhours-cli-shebang',
    renderChunk(code, chunk) {
      if (chunk.fileName === 'cli/offhours.js' && !code.startsWith('#!')) return `#!/usr/bin/env node\n${code}`;
      return null;
    },
  };
}

export default defineConfig({
  root: r('renderer'),
  base: './',
  plugins: [react(), cliShebang()],
  define: { __OFFHOURS_VERSION__: JSON.stringify(pkg.version) },
  builder: {},
  environments: {
    client: {
      build: {
        outDir: r('dist/renderer'),
        emptyOutDir: true,
        rollupOptions: { input: r('renderer/index.html') },
      },
    },
    node: {
      consumer: 'server',
      resolve: { noExternal: [], external: true },
      build: {
        outDir: r('dist'),
        emptyOutDir: false,
        target: 'node20',
        minify: false,
        sourcemap: true,
        rollupOptions: {
          input: {
            'main/main': r('main/main.ts'),
            'agent/agent': r('agent/entry.ts'),
            'cli/offhours': r('cli/offhours.ts'),
            'workers/worker': r('workers/entry.ts'),
          },
          external: isExternal,
          output: {
            format: 'es',
            entryFileNames: '[name].js',
            chunkFileNames: 'chunks/[name]-[hash].js',
          },
        },
      },
    },
    preload: {
      consumer: 'server',
      build: {
        outDir: r('dist/main'),
        emptyOutDir: false,
        target: 'node20',
        minify: false,
        rollupOptions: {
          input: { preload: r('main/preload.ts') },
          external: ['electron'],
          output: { format: 'cjs', entryFileNames: '[name].cjs' },
        },
      },
    },
  },
});
