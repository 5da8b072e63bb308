import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { buildConfig } from '../../../src/main/config/load-config.js';
import { loadModelServerConfigFile } from '../../../src/main/config/model-server-config.js';
import type { ServerConfig } from '../../../src/main/config/server-config.js';
import { kustomize, type Manifest, readYamlDocuments } from '../../fixtures/kustomize.js';
import { MODELS_DIR, REPO_ROOT, startTestServer, type TestServer } from '../../fixtures/test-server.js';

const K8S = path.join(REPO_ROOT, 'deploy', 'k8s');
const OVERLAYS = readdirSync(path.join(K8S, 'overlays')).sort();
const BUILDS: [string, string][] = [
  ['base', path.join(K8S, 'base')],
  ...OVERLAYS.map((o): [string, string] => [`overlays/${o}`, path.join(K8S, 'overlays', o)]),
];

interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  name: string;
  args?: string[];
  ports: { name: string; containerPort: number }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  volumeMounts: { name: string; mountPath: string }[];
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  containers: Container[];
  volumes: { name: string; configMap?: { name: string } }[];
}
interface Deployment extends Manifest {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: PodSpec;
    };
  };
}

/** The kubernetes-models class for an object, e.g. apps/v1 Deployment → kubernetes-models/apps/v1/Deployment. */
async function modelClass(m: Manifest): Promise<new (data: unknown) => { validate(): void }> {
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : [undefined, m.apiVersion];
  const spec =
    group === undefined
      ? `kubernetes-models/${version}/${m.kind}`
      : `kubernetes-models/${group}/${version}/${m.kind}`;
  const mod = (await import(spec)) as Record<string, new (data: unknown) => { validate(): void }>;
  const ctor = mod[m.kind];
  assert.ok(ctor, `kubernetes-models has no ${m.apiVersion} ${m.kind}`);
  return ctor;
}

function only<T extends Manifest>(manifests: Manifest[], kind: string): T {
  const found = manifests.filter((m) => m.kind === kind);
  assert.equal(found.length, 1, `one ${kind} expected, got ${found.length}`);
  return found[0] as T;
}

/** CPU quantity in cores: "2", "2500m". */
function cores(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q);
}

/** Memory quantity in bytes: "1536Mi", "2Gi", "1G". */
function bytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(q);
  assert.ok(m, `memory quantity ${q}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? unit[m[2] as keyof typeof unit] : 1);
}

/** Loads the ConfigMap's config exactly as a pod would: server.yaml, then models.config if the args name it. */
function podConfig(
  files: Record<string, string>,
  args: readonly string[],
  env: Record<string, string>,
): { raw: Record<string, unknown>; config: ServerConfig; modelPaths: string[] } {
  const raw = parseYaml(files['server.yaml']) as Record<string, unknown>;
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const config = buildConfig(raw, 'server.yaml', '/etc/tensorserve');
    let modelPaths = config.models.map((m) => m.basePath);
    if (args.some((a) => a.startsWith('--model_config_file='))) {
      const dir = mkdtempSync(path.join(tmpdir(), 'ts-k8s-'));
      try {
        writeFileSync(path.join(dir, 'models.config'), files['models.config']);
        modelPaths = loadModelServerConfigFile(path.join(dir, 'models.config'), config.modelDefaults).map(
          (m) => m.basePath,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    return { raw, config, modelPaths };
  } finally {
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      models: [{ name: 'half_plus_two', base_path: 'models/half_plus_two' }],
    });
  });
  after(() => server.close());

  it('has a base and two overlays, and every YAML file parses', () => {
    assert.deepEqual(OVERLAYS, ['model-group', 'multi-tenant']);
    for (const [, dir] of BUILDS) {
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
        assert.ok(readYamlDocuments(path.join(dir, f)).length > 0, `${dir}/${f} is empty`);
      }
    }
  });

  for (const [name, dir] of BUILDS) {
    describe(name, () => {
      const manifests = kustomize(dir);

      it('validates against the Kubernetes schemas', async () => {
        const kinds = manifests.map((m) => m.kind).sort();
        for (const k of [
          'ConfigMap',
          'Deployment',
          'HorizontalPodAutoscaler',
          'PodDisruptionBudget',
          'Service',
        ]) {
          assert.ok(kinds.includes(k), `${name} renders a ${k}`);
        }
        for (const m of manifests) {
          const Ctor = await modelClass(m);
          assert.doesNotThrow(() => new Ctor(m).validate(), `${m.kind}/${m.metadata.name}`);
        }
      });

      const deployment = only<Deployment>(manifests, 'Deployment');
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0];
      const configVolume = pod.volumes.find((v) => v.configMap !== undefined);
      const configMap = manifests.find(
        (m) => m.kind === 'ConfigMap' && m.metadata.name === configVolume?.configMap?.name,
      );

      // Secrets referenced from the environment: their values feed the config's { env: ... } keys.
      const env: Record<string, string> = {};
      for (const e of container.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref === undefined) continue;
        const secret = manifests.find((m) => m.kind === 'Secret' && m.metadata.name === ref.name);
        assert.ok(secret, `${e.name}: Secret ${ref.name} is part of ${name}`);
        const value = (secret.stringData as Record<string, string>)[ref.key];
        assert.ok(value, `${e.name}: Secret ${ref.name} has key ${ref.key}`);
        env[e.name] = value;
      }

      it('mounts a config that tensorserve accepts, with models from the repository', () => {
        assert.ok(configMap, 'the config volume names a ConfigMap of the build');
        const mount = container.volumeMounts.find((v) => v.name === configVolume?.name);
        assert.equal(mount?.mountPath, '/etc/tensorserve');
        const args = container.args ?? [];
        assert.ok(args.includes('--config=/etc/tensorserve/server.yaml'));
        const { modelPaths } = podConfig(configMap.data as Record<string, string>, args, env);
        assert.ok(modelPaths.length > 0);
        for (const p of modelPaths) {
          assert.match(p, /^\/models\//, `${p} is in the mounted repository`);
          assert.ok(readdirSync(MODELS_DIR).includes(path.basename(p)), `${p} is an example model`);
        }
      });

      it('probes routes that exist, on the ports the config serves', async () => {
        const { config } = podConfig(configMap!.data as Record<string, string>, container.args ?? [], env);
        const ports = new Map(container.ports.map((p) => [p.name, p.containerPort]));
        assert.equal(ports.get('rest'), config.restPort);
        assert.equal(ports.get('grpc'), config.grpcPort);
        const probes = {
          startupProbe: container.startupProbe,
          readinessProbe: container.readinessProbe,
          livenessProbe: container.livenessProbe,
        };
        assert.equal(probes.readinessProbe?.httpGet.path, '/v2/health/ready');
        assert.equal(probes.livenessProbe?.httpGet.path, '/v2/health/live');
        for (const [kind, probe] of Object.entries(probes)) {
          assert.ok(probe, `${kind} is set`);
          assert.equal(ports.get(String(probe.httpGet.port)), config.restPort, `${kind} is on the REST port`);
          const res = await fetch(server.restUrl + probe.httpGet.path);
          await res.arrayBuffer();
          assert.equal(res.status, 200, `${kind} ${probe.httpGet.path} on a ready server`);
        }
        const annotations = deployment.spec.template.metadata.annotations;
        assert.equal(annotations['prometheus.io/scrape'], 'true');
        assert.equal(Number(annotations['prometheus.io/port']), config.restPort);
        const scrape = await fetch(server.restUrl + annotations['prometheus.io/path']);
        assert.match(await scrape.text(), /^# HELP /m);
      });

      it('gives the pod a grace period covering the shutdown delay plus the drain timeout', () => {
        const { config } = podConfig(configMap!.data as Record<string, string>, container.args ?? [], env);
        const needed = (config.shutdownDelayMs + config.drainTimeoutMs) / 1000;
        assert.ok(needed > 0);
        assert.ok(
          pod.terminationGracePeriodSeconds >= needed,
          `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} < ${needed} s`,
        );
      });

      it('requests the CPU of the device workers and the memory of the budget', () => {
        const { config } = podConfig(configMap!.data as Record<string, string>, container.args ?? [], env);
        const { requests, limits } = container.resources;
        const threads = config.devices.reduce((n, d) => n + d.workers * d.intraOpThreads, 0);
        assert.ok(cores(requests.cpu) >= threads, `cpu request ${requests.cpu} < ${threads} worker threads`);
        assert.ok(cores(limits.cpu) >= cores(requests.cpu));
        const budget = config.devices.reduce((n, d) => n + d.memoryBudgetBytes, 0);
        assert.ok(budget > 0, 'a memory budget is set');
        assert.ok(bytes(requests.memory) > budget, `memory request ${requests.memory} <= budget ${budget}`);
        assert.ok(bytes(limits.memory) >= bytes(requests.memory));
      });

      it('selects its pods from the Service, PDB and HPA, with both ports', () => {
        const labels = deployment.spec.template.metadata.labels;
        const matches = (sel: Record<string, string>) =>
          Object.entries(sel).every(([k, v]) => labels[k] === v);
        assert.ok(matches(deployment.spec.selector.matchLabels));
        const service = only<
          Manifest & { spec: { selector: Record<string, string>; ports: Record<string, unknown>[] } }
        >(manifests, 'Service');
        assert.ok(matches(service.spec.selector));
        const byPort = new Map(service.spec.ports.map((p) => [p.port, p]));
        assert.equal(byPort.get(8500)?.appProtocol, 'grpc');
        assert.equal(byPort.get(8500)?.targetPort, 'grpc');
        assert.equal(byPort.get(8501)?.targetPort, 'rest');
        const pdb = only<Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }>(
          manifests,
          'PodDisruptionBudget',
        );
        assert.ok(matches(pdb.spec.selector.matchLabels));
        const hpa = only<Manifest & { spec: { scaleTargetRef: { kind: string; name: string } } }>(
          manifests,
          'HorizontalPodAutoscaler',
        );
        assert.deepEqual(
          [hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name],
          ['Deployment', deployment.metadata.name],
        );
      });
    });
  }
});
