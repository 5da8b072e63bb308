import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../../src/main/grpc/grpc-protos.js';
import { hasOpenssl, makePki, type Pki } from '../fixtures/pki.js';
import { startTestServer, type TestServer } from '../fixtures/test-server.js';

/**
 * A real tensorserve configured through the YAML `server.tls` block with
 * `require_client_cert: true`: REST is HTTPS and refuses clients without a certificate
 * from the configured CA, and the gRPC port of the same server is mutual TLS too.
 */

interface ClientCert {
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** GET over HTTPS trusting the test CA; resolves with status and body, rejects on a refused handshake. */
function httpsGet(
  port: number,
  urlPath: string,
  ca: Buffer,
  client: ClientCert,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: urlPath, ca, cert: client.cert, key: client.key, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

type Callback = (err: grpc.ServiceError | null, res: object) => void;
type Ctor = new (
  address: string,
  creds: grpc.ChannelCredentials,
) => grpc.Client & Record<'ServerLive', (req: object, cb: Callback) => void>;

function serverLive(address: string, creds: grpc.ChannelCredentials): Promise<object> {
  const KServe = (loadProtos().grpcObject.inference as unknown as { GRPCInferenceService: Ctor })
    .GRPCInferenceService;
  const client = new KServe(address, creds);
  return new Promise<object>((resolve, reject) =>
    client.ServerLive({}, (err, res) => (err ? reject(err) : resolve(res))),
  ).finally(() => client.close());
}

describe('REST over HTTPS with mutual TLS', {
  skip: hasOpenssl() ? false : 'openssl is not installed',
}, () => {
  let dir: string;
  let pki: Pki;
  let ts: TestServer;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tensorserve-rest-tls-'));
    pki = makePki(dir);
    ts = await startTestServer({
      server: {
        tls: {
          cert: path.join(dir, 'server.crt'),
          key: path.join(dir, 'server.key'),
          ca: path.join(dir, 'test-ca.crt'),
          require_client_cert: true,
        },
      },
      models: [{ name: 'half_plus_two', base_path: 'models/half_plus_two' }],
    });
  });
  after(async () => {
    await ts?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers a client with a certificate from the CA', async () => {
    const r = await httpsGet(ts.server.restPort, '/v1/models/half_plus_two', pki.ca, {
      cert: pki.clientCert,
      key: pki.clientKey,
    });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), {
      model_version_status: [
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
  });

  it('refuses a client without a certificate', async () => {
    await assert.rejects(httpsGet(ts.server.restPort, '/v1/models/half_plus_two', pki.ca, {}));
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    await assert.rejects(
      httpsGet(ts.server.restPort, '/v1/models/half_plus_two', pki.ca, {
        cert: pki.rogueCert,
        key: pki.rogueKey,
      }),
    );
  });

  it('refuses plain HTTP on the HTTPS port', async () => {
    const r = await fetch(`http://127.0.0.1:${ts.server.restPort}/v1/models/half_plus_two`).then(
      (res) => res.status,
      () => 'refused',
    );
    assert.notEqual(r, 200);
  });

  it('serves gRPC on the same server over mutual TLS too', async () => {
    const address = `127.0.0.1:${ts.server.grpcPort}`;
    const good = grpc.credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert);
    assert.deepEqual(await serverLive(address, good), { live: true });
    for (const creds of [
      grpc.credentials.createInsecure(),
      grpc.credentials.createSsl(pki.ca),
      grpc.credentials.createSsl(pki.ca, pki.rogueKey, pki.rogueCert),
    ]) {
      const err = (await serverLive(address, creds).then(
        () => assert.fail('expected the call to be refused'),
        (e: unknown) => e,
      )) as grpc.ServiceError;
      assert.equal(err.code, grpc.status.UNAVAILABLE, err.details);
    }
  });
});
