export * from './bounded-label.js';
export * from './kserve-stats.js';
export { type DeviceEntry, METRIC_NAMES, OP_NAME, type PendingEntry } from './metric-families.js';
export * from './metrics-routes.js';
export * from './server-metrics.js';
