import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../../../src/main/config/load-config.js';
import { REPO_ROOT } from '../../fixtures/repo-root.js';

describe('config/on-demand.yaml (the example of many models served on demand)', () => {
  const config = loadConfigFile(path.join(REPO_ROOT, 'config', 'on-demand.yaml'));

  it('is valid: a CPU budget, every model on demand but the pinned one, each base path present', () => {
    const cpu = config.devices.find((d) => d.name === 'cpu');
    assert.ok(cpu !== undefined && cpu.memoryBudgetBytes > 0, 'the CPU pool has a memory budget');
    const pinned = config.models.filter((m) => m.residency?.loadOnDemand !== true).map((m) => m.name);
    assert.deepEqual(pinned, ['half_plus_two']);
    assert.ok(config.models.length > 2);
    for (const m of config.models) {
      assert.ok(existsSync(m.basePath), `${m.name}: ${m.basePath}`);
      if (m.residency?.loadOnDemand) {
        assert.ok(m.residency.idleUnloadSeconds > 0, `${m.name} unloads when idle`);
        assert.ok(m.residency.coldStartTimeoutMs > 0);
      }
    }
  });
});
