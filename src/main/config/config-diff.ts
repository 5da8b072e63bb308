import type { ServerConfig } from './server-config.js';

/**
 * The parts of a ServerConfig a running server cannot change (listeners, pools, limits
 * compiled into the front ends), by the YAML path a user would edit. A reload that changes
 * one of them applies the rest and logs each of these as needing a restart.
 */
const RESTART_ONLY: readonly [keyof ServerConfig, string][] = [
  ['host', 'server.host'],
  ['restPort', 'server.rest_api_port'],
  ['grpcPort', 'server.grpc_port'],
  ['pollIntervalMs', 'server.file_system_poll_wait_seconds'],
  ['defaultRequestTimeoutMs', 'server.default_request_timeout_ms'],
  ['drainTimeoutMs', 'server.drain_timeout_ms'],
  ['accessLogSampleRate', 'server.access_log_sample_rate'],
  ['prometheus', 'server.prometheus'],
  ['limits', 'server.limits'],
  ['tls', 'server.tls'],
  ['devices', 'devices'],
  ['configFile', '--model_config_file'],
  ['configPollIntervalMs', 'server.model_config_file_poll_wait_seconds'],
  ['configFilePollIntervalMs', 'server.config_file_poll_wait_seconds'],
];

/** YAML paths of the restart-only settings that differ between `current` and `next`. */
export function restartOnlyChanges(current: ServerConfig, next: ServerConfig): string[] {
  return RESTART_ONLY.filter(([key]) => !sameValue(current[key], next[key])).map(([, where]) => where);
}

/** Structural equality of two frozen config values (built in a fixed key order). */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
