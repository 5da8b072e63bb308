import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig, loadConfigFile } from '../../../src/main/config/load-config.js';
import { ConnectionBudget, effectiveMaxConnections } from '../../../src/main/net/connection-budget.js';
import {
  clampGrpcTimeout,
  clampTimeout,
  MAX_TIMER_MS,
  safeDelay,
} from '../../../src/main/net/deadline-cap.js';
import { REPO_ROOT } from '../../fixtures/repo-root.js';

describe('deadline clamps', () => {
  it('keeps timer delays within what Node honours', () => {
    assert.equal(safeDelay(-5), 0);
    assert.equal(safeDelay(Number.NaN), 0);
    assert.equal(safeDelay(2 ** 31), MAX_TIMER_MS);
    assert.equal(clampTimeout(1e300, 600_000), 600_000);
    assert.equal(clampTimeout(500, 600_000), 500);
    assert.equal(clampTimeout(0, 600_000), 0);
  });

  it('clamps grpc-timeout values above the cap, whatever their unit', () => {
    assert.equal(clampGrpcTimeout('2592000S', 600_000), '600000m');
    assert.equal(clampGrpcTimeout('99999999H', 600_000), '600000m');
    assert.equal(clampGrpcTimeout('1000m', 600_000), '1000m');
    assert.equal(clampGrpcTimeout('5S', 600_000), '5S');
    assert.equal(clampGrpcTimeout('2592000S', MAX_TIMER_MS), '2147483S');
    assert.equal(clampGrpcTimeout('bogus', 600_000), 'bogus');
  });
});

describe('connection budget', () => {
  it('counts connections up to the cap and frees them', () => {
    const b = new ConnectionBudget(2);
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), false);
    b.release();
    assert.equal(b.tryTake(), true);
    assert.equal(new ConnectionBudget(0).tryTake(), true);
  });

  it('lowers the cap to the open-files limit minus a reserve', () => {
    assert.deepEqual(effectiveMaxConnections(10_000, 1024), { max: 768, lowered: true, fdSoftLimit: 1024 });
    assert.deepEqual(effectiveMaxConnections(100, 1024), { max: 100, lowered: false, fdSoftLimit: 1024 });
    assert.deepEqual(effectiveMaxConnections(100, undefined), {
      max: 100,
      lowered: false,
      fdSoftLimit: undefined,
    });
  });
});

describe('shutdown and connection settings in the YAML', () => {
  const config = (server: Record<string, unknown>) => buildConfig({ server }, 'test', REPO_ROOT);

  it('defaults the shutdown delay to 5 s, or half a shorter drain timeout', () => {
    assert.equal(config({}).shutdownDelayMs, 5000);
    assert.equal(config({ drain_timeout_ms: 2000 }).shutdownDelayMs, 1000);
    assert.equal(config({ shutdown_delay_ms: 0, drain_timeout_ms: 2000 }).shutdownDelayMs, 0);
  });

  it('refuses a delay that leaves the drain no time, and a header timeout over the body timeout', () => {
    assert.throws(
      () => config({ shutdown_delay_ms: 3000, drain_timeout_ms: 2000 }),
      /shutdown_delay_ms \(3000\) must be less than server.drain_timeout_ms/,
    );
    assert.throws(
      () => config({ connections: { header_timeout_ms: 5000, body_timeout_ms: 1000 } }),
      /header_timeout_ms \(5000\) must not exceed body_timeout_ms/,
    );
  });

  it('the example config validates with every setting spelled out', () => {
    const c = loadConfigFile(`${REPO_ROOT}/config/server.yaml`);
    assert.equal(c.connections.grpc.maxConnectionAgeMs, 1_800_000);
    assert.equal(c.connections.maxDeadlineMs, 600_000);
  });
});
