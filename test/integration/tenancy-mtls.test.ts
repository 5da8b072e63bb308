import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { sha256Hex } from '../../src/main/config/tenant-config.js';
import { floatTensor, type GrpcClient, grpcCall, grpcClient, grpcError } from '../fixtures/grpc-client.js';
import { hasOpenssl, makeTestPki, type TestPki } from '../fixtures/pki.js';
import { copyVersion, startTestServer, type TestServer } from '../fixtures/test-server.js';

const CNS = ['acme-client', 'ops-console', 'stranger'];

describe('mutual TLS: client certificate → tenant, end to end over REST and gRPC', {
  skip: !hasOpenssl() && 'no openssl',
}, () => {
  let pki: TestPki;
  let ts: TestServer;
  const clients: GrpcClient[] = [];

  before(async () => {
    pki = makeTestPki(CNS);
    ts = await startTestServer({
      server: {
        tls: {
          cert: pki.server.certPath,
          key: pki.server.keyPath,
          ca: pki.caPath,
          require_client_cert: true,
        },
      },
      admin_client_cert_subjects: ['ops-console'],
      tenants: [
        { id: 'acme', client_cert_subjects: ['acme-client'] },
        { id: 'globex', api_keys: [{ sha256: sha256Hex('globex-secret') }] },
      ],
      model_defaults: { load_retries: 0 },
      models: [
        { name: 'fraud', tenant: 'acme', base_path: copyVersion('half_plus_two', 1) },
        { name: 'gonly', tenant: 'globex', base_path: copyVersion('half_plus_two', 1) },
      ],
    });
  });

  after(async () => {
    for (const c of clients) c.close();
    await ts?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  /** A REST call presenting the client certificate of `cn`. */
  const rest = (cn: string, path: string, body?: unknown) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const leaf = pki.clients[cn];
      const req = https.request(
        {
          host: '127.0.0.1',
          port: ts.server.restPort,
          path,
          method: body === undefined ? 'GET' : 'POST',
          ca: pki.ca,
          cert: leaf.cert,
          key: leaf.key,
          servername: 'localhost',
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      if (body !== undefined) req.write(JSON.stringify(body));
      req.end();
    });

  const grpcAs = (cn: string) => {
    const leaf = pki.clients[cn];
    const client = grpcClient(
      'tensorflow.serving.PredictionService',
      `localhost:${ts.server.grpcPort}`,
      grpc.credentials.createSsl(pki.ca, leaf.key, leaf.cert),
    );
    clients.push(client);
    return client;
  };
  const tfRequest = (name: string) => ({ model_spec: { name }, inputs: { x: floatTensor([1]) } });

  it('REST: the tenant certificate reaches its own model and nothing else', async () => {
    const own = await rest('acme-client', '/v1/models/fraud:predict', { instances: [1] });
    assert.equal(own.status, 200, own.text);
    assert.deepEqual(JSON.parse(own.text), { predictions: [2.5] });
    assert.equal((await rest('acme-client', '/v1/models/gonly:predict', { instances: [1] })).status, 404);
    assert.equal((await rest('acme-client', '/admin/tenants')).status, 403);
  });

  it('REST: a certificate from the trusted CA whose CN maps to nobody is 401', async () => {
    const res = await rest('stranger', '/v1/models/fraud:predict', { instances: [1] });
    assert.equal(res.status, 401, res.text);
    assert.match(res.text, /Client certificate is not authorized/);
  });

  it('REST: the admin certificate reaches management and any tenant model by its internal name', async () => {
    assert.equal((await rest('ops-console', '/admin/tenants')).status, 200);
    const res = await rest('ops-console', '/v1/models/globex%2Fgonly:predict', { instances: [1] });
    assert.equal(res.status, 200, res.text);
  });

  it('gRPC: the certificate identifies the tenant, the admin and strangers the same way', async () => {
    const own = await grpcCall<{ model_spec: { name: string } }>(
      grpcAs('acme-client'),
      'Predict',
      tfRequest('fraud'),
    );
    assert.equal(own.model_spec.name, 'fraud');
    await grpcError(grpcCall(grpcAs('acme-client'), 'Predict', tfRequest('gonly')), grpc.status.NOT_FOUND);
    const stranger = await grpcError(
      grpcCall(grpcAs('stranger'), 'Predict', tfRequest('fraud')),
      grpc.status.UNAUTHENTICATED,
    );
    assert.equal(stranger.details, 'Client certificate is not authorized');
    const admin = await grpcCall<{ model_spec: { name: string } }>(
      grpcAs('ops-console'),
      'Predict',
      tfRequest('acme/fraud'),
    );
    assert.equal(admin.model_spec.name, 'acme/fraud');
  });
});
