import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitServerStatus } from './balancers.js';
import { describeLoad, servedRequests, startCluster } from './cluster.js';
import { HAS_GRPC_MAX_AGE, HAS_SHUTDOWN_DELAY, sleep, TIMINGS, waitUntil } from './instances.js';
import { SteadyLoad, underLoad } from './load.js';
import { ServiceProxy } from './service-proxy.js';

const NEEDS =
  HAS_GRPC_MAX_AGE && HAS_SHUTDOWN_DELAY
    ? false
    : 'needs server.grpc.max_connection_age_ms and listening before models load (issue 9)';

const GRPC_CLIENTS = 4;

describe('(e) scale-up from 2 to 3 instances', () => {
  it('haproxy + a Service: the new instance gets traffic only once ready, and gRPC clients spread onto it', {
    skip: NEEDS,
  }, async (t) => {
    const cluster = await startCluster('haproxy', { running: 2 });
    // gRPC clients keep one connection each, balanced per connection as by a Kubernetes Service.
    const service = new ServiceProxy(cluster.instances);
    try {
      const b = cluster.balancer;
      const fresh = cluster.instances[2];
      await waitServerStatus(b, fresh.name, 'DOWN');
      const serviceAddress = await service.listen();
      const load = new SteadyLoad({
        model: cluster.repository.model,
        restUrl: b.restUrl,
        restConcurrency: 4,
        grpcAddresses: Array.from({ length: GRPC_CLIENTS }, () => serviceAddress),
      });
      const figures: string[] = [];
      await underLoad(load, async () => {
        const started = Date.now();
        fresh.start();
        // Until it is ready, HAProxy must not have sent it a request (stats read before readiness).
        let readyAt = 0;
        while (readyAt === 0) {
          const stot = (await b.stats())
            .filter((r) => r.server === fresh.name)
            .reduce((n, r) => n + r.stot, 0);
          const ready = await fresh.ready();
          assert.ok(
            stot === 0 || ready === 200,
            `HAProxy sent ${fresh.name} ${stot} requests before it was ready`,
          );
          if (ready === 200) readyAt = Date.now();
          else if (Date.now() - started > 60_000) assert.fail(`${fresh.name} not ready:\n${fresh.output()}`);
          else await sleep(50);
        }
        figures.push(`ready ${readyAt - started} ms after start`);
        await waitUntil(
          async () => (await servedRequests(fresh)) > 0,
          `REST requests on ${fresh.name}`,
          30_000,
          100,
        );
        figures.push(`first REST request ${Date.now() - readyAt} ms after ready`);
        const bound = TIMINGS.grpcMaxConnectionAgeMs + TIMINGS.grpcMaxConnectionAgeGraceMs + 10_000;
        await waitUntil(
          () => service.openConnections(fresh) > 0,
          `a gRPC client on ${fresh.name}`,
          bound,
          50,
        );
        figures.push(
          `first gRPC connection ${Date.now() - readyAt} ms after ready (max age ${TIMINGS.grpcMaxConnectionAgeMs} ms)`,
        );
        // One more max age: the connections keep rebalancing.
        await sleep(TIMINGS.grpcMaxConnectionAgeMs + TIMINGS.grpcMaxConnectionAgeGraceMs);
      });
      const spread = cluster.instances.map(
        (i) => `${i.name} ${service.openConnections(i)}/${service.acceptedConnections(i)}`,
      );
      figures.push(`gRPC connections open/accepted: ${spread.join(', ')}`);
      const served = await Promise.all(
        cluster.instances.map(async (i) => `${i.name} ${await servedRequests(i)}`),
      );
      figures.push(`requests served: ${served.join(', ')}`);
      t.diagnostic(`scale-up: ${figures.join('; ')}; ${describeLoad(load)}`);
      assert.ok(service.acceptedConnections(fresh) > 0);
      assert.ok(load.rest.ok > 0 && load.grpc.ok > 0, describeLoad(load));
      assert.equal(load.total.failed, 0, [...load.rest.failures, ...load.grpc.failures].join('\n'));
    } finally {
      await service.close();
      await cluster.close();
    }
  });
});
