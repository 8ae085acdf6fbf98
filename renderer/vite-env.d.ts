// Types for what Vite handles at build time (CSS and asset imports).
/// <reference types="vite/client" />
