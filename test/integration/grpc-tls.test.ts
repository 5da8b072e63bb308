import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../../src/main/grpc/grpc-protos.js';
import { createGrpcServer, type GrpcServer } from '../../src/main/grpc/grpc-server.js';
import type { InferenceCore } from '../../src/main/serving/inference-core.js';
import type { Credentials } from '../../src/main/tenancy/authenticator.js';
import { hasOpenssl, makePki, type Pki } from '../fixtures/pki.js';

const notUsed = () => {
  throw new Error('not used by this test');
};
const core: InferenceCore = {
  predict: notUsed,
  modelStatus: notUsed,
  modelMetadata: notUsed,
  listModels: () => [],
  reloadModels: notUsed,
  modelLoadError: notUsed,
  live: () => true,
  ready: () => true,
  modelReady: () => false,
};

type Callback = (err: grpc.ServiceError | null, res: object) => void;
type Ctor = new (
  address: string,
  creds: grpc.ChannelCredentials,
) => grpc.Client & Record<'ServerLive' | 'ModelReady', (req: object, cb: Callback) => void>;
const KServe = (loadProtos().grpcObject.inference as unknown as { GRPCInferenceService: Ctor })
  .GRPCInferenceService;

async function kserveCall(
  port: number,
  creds: grpc.ChannelCredentials,
  method: 'ServerLive' | 'ModelReady' = 'ServerLive',
): Promise<object> {
  const client = new KServe(`localhost:${port}`, creds);
  try {
    return await new Promise((resolve, reject) =>
      client[method]({ name: 'm' }, (err, res) => (err ? reject(err) : resolve(res))),
    );
  } finally {
    client.close();
  }
}

async function expectRefused(p: Promise<unknown>): Promise<void> {
  const err = (await p.then(
    () => assert.fail('expected the connection to be refused'),
    (e: unknown) => e,
  )) as grpc.ServiceError;
  assert.equal(err.code, grpc.status.UNAVAILABLE, err.details);
}

describe('gRPC front end over TLS', { skip: hasOpenssl() ? false : 'openssl is not installed' }, () => {
  let dir: string;
  let pki: Pki;
  let tls: GrpcServer;
  let mtls: GrpcServer;
  const seen: Credentials[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tensorserve-tls-'));
    pki = makePki(dir);
    const base = { host: '127.0.0.1', port: 0, maxMessageBytes: 1 << 20 };
    tls = await createGrpcServer(core, {
      ...base,
      tls: { cert: pki.serverCert, key: pki.serverKey, requireClientCert: false },
    });
    mtls = await createGrpcServer(core, {
      ...base,
      tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requireClientCert: true },
      authenticate: (c) => {
        seen.push(c);
        return { tenant: c.clientCertCN, admin: false };
      },
    });
  });

  after(async () => {
    await Promise.all([tls?.close(500), mtls?.close(500)]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts clients that trust the CA and refuses plaintext or untrusting ones', async () => {
    assert.deepEqual(await kserveCall(tls.port, grpc.credentials.createSsl(pki.ca)), { live: true });
    await expectRefused(kserveCall(tls.port, grpc.credentials.createInsecure()));
    await expectRefused(kserveCall(tls.port, grpc.credentials.createSsl(pki.rogueCa)));
  });

  it('with mutual TLS, accepts a client certificate signed by the CA and hands its CN to authenticate', async () => {
    const creds = grpc.credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert);
    assert.deepEqual(await kserveCall(mtls.port, creds), { live: true });
    assert.deepEqual(await kserveCall(mtls.port, creds, 'ModelReady'), { ready: false });
    assert.equal(seen.at(-1)?.clientCertCN, 'tenant-a');
  });

  it('with mutual TLS, refuses clients without a certificate or with one from another CA', async () => {
    await expectRefused(kserveCall(mtls.port, grpc.credentials.createSsl(pki.ca)));
    await expectRefused(
      kserveCall(mtls.port, grpc.credentials.createSsl(pki.ca, pki.rogueKey, pki.rogueCert)),
    );
  });

  it('refuses to start mutual TLS without a CA', async () => {
    await assert.rejects(
      createGrpcServer(core, {
        host: '127.0.0.1',
        port: 0,
        maxMessageBytes: 1024,
        tls: { cert: pki.serverCert, key: pki.serverKey, requireClientCert: true },
      }),
      /requireClientCert needs a CA/,
    );
  });
});
