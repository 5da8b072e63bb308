import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_BATCHING } from '../../../src/batching/batching-options.js';
import { batchingProblems, validateBatching } from '../../../src/batching/batching-validation.js';
import { CONFIG_DEFAULTS } from '../../../src/main/config/config-defaults.js';
import { buildConfig } from '../../../src/main/config/load-config.js';
import { DEFAULT_WARMUP } from '../../../src/main/config/warmup-options.js';

describe('CONFIG_DEFAULTS', () => {
  it('is what an empty config resolves to', () => {
    const c = buildConfig({ models: [{ name: 'm', base_path: 'm' }] }, 'test', '/b');
    const s = CONFIG_DEFAULTS.server;
    assert.equal(c.host, s.host);
    assert.equal(c.restPort, s.restApiPort);
    assert.equal(c.grpcPort, s.grpcPort);
    assert.equal(c.pollIntervalMs, s.fileSystemPollWaitSeconds * 1000);
    assert.equal(c.configPollIntervalMs, s.modelConfigFilePollWaitSeconds * 1000);
    assert.equal(c.configFilePollIntervalMs, s.configFilePollWaitSeconds * 1000);
    assert.equal(c.defaultRequestTimeoutMs, s.defaultRequestTimeoutMs);
    assert.equal(c.drainTimeoutMs, s.drainTimeoutMs);
    assert.equal(c.shutdownDelayMs, CONFIG_DEFAULTS.connections.shutdownDelayMs);
    assert.equal(c.logLevel, s.logLevel);
    assert.equal(c.accessLogSampleRate, s.accessLogSampleRate);
    assert.deepEqual(c.limits, CONFIG_DEFAULTS.limits);
    assert.deepEqual(c.prometheus, CONFIG_DEFAULTS.prometheus);
    assert.equal(c.connections.maxConnections, CONFIG_DEFAULTS.connections.maxConnections);
    assert.equal(c.connections.maxDeadlineMs, CONFIG_DEFAULTS.connections.maxDeadlineMs);
    assert.deepEqual(c.devices, [{ name: 'cpu', ...CONFIG_DEFAULTS.device }]);
    const m = c.models[0];
    const dm = CONFIG_DEFAULTS.model;
    assert.equal(m.device, dm.device);
    assert.equal(m.instances, dm.instances);
    assert.equal(m.loadRetries, dm.loadRetries);
    assert.equal(m.loadRetryIntervalMs, dm.loadRetryIntervalMs);
    assert.deepEqual(m.versionPolicy, { kind: 'latest', numVersions: dm.latestNumVersions });
    assert.deepEqual(m.batching, CONFIG_DEFAULTS.batching);
    assert.deepEqual(m.warmup, DEFAULT_WARMUP);
  });

  it('takes TF Serving batching defaults from the batching layer, batch threads resolved at load', () => {
    assert.deepEqual(CONFIG_DEFAULTS.batching, { ...DEFAULT_BATCHING, numBatchThreads: 0 });
  });

  it('is frozen all the way down', () => {
    assert.ok(Object.isFrozen(CONFIG_DEFAULTS));
    assert.ok(Object.isFrozen(CONFIG_DEFAULTS.server));
    assert.ok(Object.isFrozen(CONFIG_DEFAULTS.declaredWarmup.batchSizes));
  });
});

describe('batching rules: one source for the config and the scheduler', () => {
  const options = {
    ...DEFAULT_BATCHING,
    maxBatchSize: 8,
    maxExecutionBatchSize: 16,
    allowedBatchSizes: [4, 2, 8],
  };

  it('are reported under the YAML names by the config loader', () => {
    const yaml = (o: string) => o.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    assert.deepEqual(
      batchingProblems(options, yaml).map((p) => `${yaml(p.option)} ${p.message}`),
      [
        'allowed_batch_sizes must be strictly increasing (entry 1 is 2)',
        'max_execution_batch_size must be <= max_batch_size (8)',
      ],
    );
  });

  it('are the same rules, under the option names, for programmatic callers', () => {
    assert.throws(
      () => validateBatching(options),
      (err: Error) => err.message === 'batching.allowedBatchSizes must be strictly increasing (entry 1 is 2)',
    );
    assert.throws(
      () => validateBatching({ ...options, allowedBatchSizes: [] }),
      (err: Error) => err.message === 'batching.maxExecutionBatchSize must be <= maxBatchSize (8)',
    );
    assert.deepEqual(
      batchingProblems({ ...options, maxExecutionBatchSize: 8, allowedBatchSizes: [2, 8] }, String),
      [],
    );
  });
});
