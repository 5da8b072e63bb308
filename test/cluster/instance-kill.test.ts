import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BalancerKind } from './balancers.js';
import { describeLoad, startCluster } from './cluster.js';
import { sleep } from './instances.js';
import { SteadyLoad, underLoad } from './load.js';

/**
 * Which requests each balancer can retry elsewhere once the instance has died under them.
 * nginx streams a gRPC request body to the upstream unbuffered, so a call already sent to the
 * killed instance fails (502 → UNAVAILABLE); a REST predict (non_idempotent) and everything
 * through HAProxy (retry-on empty-response) is replayed.
 */
const RETRIED: Record<BalancerKind, { rest: boolean; grpc: boolean }> = {
  haproxy: { rest: true, grpc: true },
  nginx: { rest: true, grpc: false },
};

describe('(b) SIGKILL of one instance under load', () => {
  for (const kind of ['haproxy', 'nginx'] as BalancerKind[]) {
    const retried = Object.entries(RETRIED[kind])
      .filter(([, r]) => r)
      .map(([p]) => p)
      .join(' and ');
    it(`${kind}: failed requests <= those in flight on it, and 0 for ${retried}, which it retries`, async (t) => {
      const cluster = await startCluster(kind);
      try {
        const b = cluster.balancer;
        const victim = cluster.instances[1];
        const load = new SteadyLoad({
          model: cluster.repository.model,
          restUrl: b.restUrl,
          restConcurrency: 4,
          grpcAddresses: [b.grpcAddress, b.grpcAddress],
        });
        let inFlight = 0;
        let bound = '';
        await underLoad(
          load,
          async () => {
            if (kind === 'haproxy') {
              // Requests HAProxy has open on the victim, both backends, just before the kill.
              const rows = (await b.stats()).filter((r) => r.server === victim.name);
              inFlight = rows.reduce((n, r) => n + r.scur, 0);
              bound = 'in flight on it (HAProxy scur)';
            } else {
              // nginx does not say per server: every request in flight anywhere bounds it.
              inFlight = load.total.inFlight;
              bound = 'in flight on all instances';
            }
            await victim.kill();
            await sleep(4000);
          },
          2000,
        );
        t.diagnostic(`${kind} SIGKILL: ${describeLoad(load)}; ${inFlight} ${bound} at the kill`);
        assert.ok(load.rest.ok > 0 && load.grpc.ok > 0, describeLoad(load));
        const failures = [...load.rest.failures, ...load.grpc.failures].join('\n');
        assert.ok(
          load.total.failed <= inFlight,
          `${load.total.failed} failed > ${inFlight} ${bound}\n${failures}`,
        );
        if (RETRIED[kind].rest) assert.equal(load.rest.failed, 0, failures);
        if (RETRIED[kind].grpc) assert.equal(load.grpc.failed, 0, failures);
      } finally {
        await cluster.close();
      }
    });
  }
});
