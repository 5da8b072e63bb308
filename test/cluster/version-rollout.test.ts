import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeLoad, startCluster } from './cluster.js';
import { TIMINGS, waitUntil } from './instances.js';
import { SteadyLoad, underLoad } from './load.js';

interface ModelStatus {
  model_version_status: { version: string; state: string }[];
}

async function availableVersions(url: string): Promise<string[]> {
  const res = await fetch(url);
  const body = (await res.json()) as ModelStatus;
  return body.model_version_status.filter((s) => s.state === 'AVAILABLE').map((s) => s.version);
}

describe('(c) a new version dropped into the shared repository', () => {
  it('haproxy: every instance serves it after the poll interval plus the load, with 0 failed', async (t) => {
    const cluster = await startCluster('haproxy');
    try {
      const b = cluster.balancer;
      const model = cluster.repository.model;
      const load = new SteadyLoad({
        model,
        restUrl: b.restUrl,
        restConcurrency: 4,
        grpcAddresses: [b.grpcAddress, b.grpcAddress],
      });
      const times: string[] = [];
      await underLoad(load, async () => {
        const dropped = Date.now();
        cluster.repository.addVersion(2);
        await Promise.all(
          cluster.instances.map(async (inst) => {
            const url = `${inst.restUrl}/v1/models/${model}`;
            await waitUntil(
              async () => (await availableVersions(url)).join() === '2',
              `${inst.name} to serve version 2 only`,
              30_000,
              50,
            );
            times.push(`${inst.name} ${Date.now() - dropped} ms`);
          }),
        );
      });
      t.diagnostic(`version 2 served (poll interval ${TIMINGS.pollSeconds * 1000} ms): ${times.join(', ')}`);
      t.diagnostic(`during the rollout: ${describeLoad(load)}`);
      // Through the balancer, every instance answers with the new version.
      for (let i = 0; i < 12; i++) {
        const res = await fetch(`${b.restUrl}/v2/models/${model}/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }),
        });
        assert.equal(((await res.json()) as { model_version: string }).model_version, '2');
      }
      assert.ok(load.rest.ok > 0 && load.grpc.ok > 0, describeLoad(load));
      assert.equal(load.total.failed, 0, [...load.rest.failures, ...load.grpc.failures].join('\n'));
    } finally {
      await cluster.close();
    }
  });
});
