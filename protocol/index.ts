export * from './constants.js';
export * from './data-dir.js';
export * from './common.js';
export * from './api.js';
export * from './signals.js';
export * from './policy.js';
export * from './worker-channel.js';
export * from './csp.js';
