/** Injected by Vite's `define` (vite.config.ts, vitest.config.ts). */
declare const __OFFHOURS_VERSION__: string;
