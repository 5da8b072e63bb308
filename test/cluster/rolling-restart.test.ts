import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BalancerKind } from './balancers.js';
import { describeLoad, servedRequests, startCluster } from './cluster.js';
import { HAS_SHUTDOWN_DELAY, waitUntil } from './instances.js';
import { SteadyLoad, underLoad } from './load.js';

const NEEDS = HAS_SHUTDOWN_DELAY
  ? false
  : 'needs graceful drain (issue 9): server.shutdown_delay_ms, readiness false at once on SIGTERM';

describe('(a) rolling restart under load', () => {
  for (const kind of ['haproxy', 'nginx'] as BalancerKind[]) {
    it(`${kind}: SIGTERM, exit, restart, ready, one instance at a time: 0 failed requests`, {
      skip: NEEDS,
    }, async (t) => {
      const cluster = await startCluster(kind);
      try {
        const b = cluster.balancer;
        const load = new SteadyLoad({
          model: cluster.repository.model,
          restUrl: b.restUrl,
          restConcurrency: 4,
          grpcAddresses: [b.grpcAddress, b.grpcAddress],
        });
        await underLoad(load, async () => {
          for (const inst of cluster.instances) {
            const code = await inst.stop();
            assert.equal(code, 0, `${inst.name} exits 0 after its drain:\n${inst.output()}`);
            await inst.startReady();
            // Back in rotation before the next one goes: the balancer sends it requests again.
            await waitUntil(
              async () => (await servedRequests(inst)) > 0,
              `${kind} to send ${inst.name} requests`,
              30_000,
              200,
            );
          }
        });
        t.diagnostic(`${kind} rolling restart: ${describeLoad(load)}`);
        assert.ok(load.rest.ok > 0 && load.grpc.ok > 0, describeLoad(load));
        assert.equal(load.total.failed, 0, [...load.rest.failures, ...load.grpc.failures].join('\n'));
      } finally {
        await cluster.close();
      }
    });
  }
});
