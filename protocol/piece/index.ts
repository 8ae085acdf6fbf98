export * from './fr32.js';
export * from './tree.js';
export * from './varint.js';
export * from './base32.js';
export * from './cid.js';
export * from './proof.js';
export * from './challenge.js';
export * from './schemas.js';
