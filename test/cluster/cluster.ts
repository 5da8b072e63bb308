import { type Balancer, type BalancerKind, startBalancer } from './balancers.js';
import { Instance, type InstanceOptions, ModelRepository, statusOf } from './instances.js';

/** Three instance slots sharing one model repository, behind one balancer. */
export interface Cluster {
  readonly repository: ModelRepository;
  readonly instances: readonly Instance[];
  readonly balancer: Balancer;
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** How many of the three slots start (and are ready) before the balancer; default 3. */
  readonly running?: number;
  /** A repository of its own for a slot (index → repository), e.g. one with a corrupt model. */
  readonly ownRepository?: ReadonlyMap<number, ModelRepository>;
}

/**
 * The setup of docs/deploy.md on loopback: ts1..ts3 with `--config` and the shared
 * `--model_config_file`, and the shipped balancer config with the test's ports.
 */
export async function startCluster(kind: BalancerKind, o: ClusterOptions = {}): Promise<Cluster> {
  const repository = new ModelRepository();
  const instances: Instance[] = [];
  // Behind nginx (docs/deploy.md): nginx balances every gRPC call itself and cannot replay one,
  // so the age is off (grpc-js ends an aged connection with a single GOAWAY, which a call can
  // cross), and the gRPC port opens once the instance is ready (nginx has no active checks).
  const options: InstanceOptions =
    kind === 'nginx' ? { grpcMaxConnectionAgeMs: 0, grpcListenWhenReady: true } : {};
  for (let i = 0; i < 3; i++) {
    instances.push(await Instance.create(`ts${i + 1}`, o.ownRepository?.get(i) ?? repository, options));
  }
  const running = instances.slice(0, o.running ?? 3);
  try {
    await Promise.all(running.map((inst) => inst.startReady()));
    const balancer = await startBalancer(kind, instances);
    return {
      repository,
      instances,
      balancer,
      async close() {
        await balancer.stop();
        await Promise.all(instances.map((inst) => inst.kill()));
        repository.remove();
        for (const r of o.ownRepository?.values() ?? []) r.remove();
      },
    };
  } catch (err) {
    await Promise.all(instances.map((inst) => inst.kill()));
    repository.remove();
    throw err;
  }
}

/** Predict and infer requests an instance has answered (`:tensorflow:serving:request_count`), 0 when down. */
export async function servedRequests(inst: Instance): Promise<number> {
  if ((await statusOf(`${inst.restUrl}/v2/health/live`)) !== 200) return 0;
  const text = await (await fetch(`${inst.restUrl}/monitoring/prometheus/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(':tensorflow:serving:request_count{'))
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

/** One line of figures for the test's diagnostics. */
export function describeLoad(load: {
  rest: { ok: number; failed: number };
  grpc: { ok: number; failed: number };
}): string {
  return `REST ${load.rest.ok} ok / ${load.rest.failed} failed, gRPC ${load.grpc.ok} ok / ${load.grpc.failed} failed`;
}
