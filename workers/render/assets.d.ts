// Vite inlines `?raw` imports as strings at build time (and vitest does the same), so the Python
// that runs inside Blender ships inside the worker bundle with no separate resource to find.
declare module '*.py?raw' {
  const source: string;
  export default source;
}
