// What Vite's `define` injects in the build, for benches that import the sources through tsx.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
(globalThis as { __OFFHOURS_VERSION__?: string }).__OFFHOURS_VERSION__ = pkg.version;
