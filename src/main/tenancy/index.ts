export * from '../config/tenant-config.js';
export * from './admission.js';
export * from './authenticator.js';
export * from './memory-budget.js';
export * from './memory-estimate.js';
export * from './namespace.js';
export * from './token-bucket.js';
