export * from './constants.js';
export * from './data-dir.js';
export * from './api.js';
export * from './worker-channel.js';
export * from './csp.js';
