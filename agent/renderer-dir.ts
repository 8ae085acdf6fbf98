import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where the built dashboard is: next to the bundled agent (dist/renderer, also inside the
 * asar), or dist/renderer of the checkout when the agent runs from source (tests). */
export function defaultRendererDir(): string {
  const candidates = [new URL('../renderer/', import.meta.url), new URL('../dist/renderer/', import.meta.url)].map((u) => fileURLToPath(u));
  return candidates.find((dir) => existsSync(`${dir}index.html`) && !existsSync(`${dir}main.tsx`)) ?? candidates[0]!;
}
