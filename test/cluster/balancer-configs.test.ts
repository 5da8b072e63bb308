import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkConfig, HAPROXY_CFG, NGINX_CONF } from './balancers.js';
import { Instance, ModelRepository, statusOf } from './instances.js';

describe('shipped balancer configs', () => {
  const repository = new ModelRepository();
  let inst: Instance;
  before(async () => {
    inst = await Instance.create('ts1', repository);
    await inst.startReady();
  });
  after(async () => {
    await inst.kill();
    repository.remove();
  });

  it('haproxy -c accepts deploy/haproxy/haproxy.cfg as shipped', async () => {
    assert.match(await checkConfig('haproxy', HAPROXY_CFG), /Configuration file is valid/);
  });

  it('nginx -t accepts deploy/nginx/nginx.conf as shipped', async () => {
    const prefix = mkdtempSync(path.join(tmpdir(), 'ts-nginx-t-'));
    try {
      assert.match(await checkConfig('nginx', NGINX_CONF, prefix), /test is successful/);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  it("HAProxy's health checks ask for a route that answers 200 on a ready instance", async () => {
    const uris = [...readFileSync(HAPROXY_CFG, 'utf8').matchAll(/http-check send meth GET uri (\S+)/g)].map(
      (m) => m[1],
    );
    assert.deepEqual([...new Set(uris)], ['/v2/health/ready']);
    assert.equal(await statusOf(inst.restUrl + uris[0]), 200);
  });

  it('both balance REST and gRPC over the same three documented instances', () => {
    const haproxy = readFileSync(HAPROXY_CFG, 'utf8');
    const nginx = readFileSync(NGINX_CONF, 'utf8');
    for (const port of [8511, 8521, 8531, 8510, 8520, 8530]) {
      assert.match(haproxy, new RegExp(`server ts\\d 127\\.0\\.0\\.1:${port}\\b`));
      assert.match(nginx, new RegExp(`server 127\\.0\\.0\\.1:${port} `));
    }
    assert.match(haproxy, /bind :8500 proto h2/);
    assert.match(nginx, /listen 8500 http2;/);
    assert.match(nginx, /grpc_pass grpc:\/\/tensorserve_grpc;/);
  });
});
