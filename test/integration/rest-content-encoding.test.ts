import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { startTestServer, type TestServer } from '../fixtures/test-server.js';

const LIMIT = 200_000;
const PREDICT = '{"instances":[1.0,2.0,5.0]}';
const ANSWER = '{"predictions":[2.5,3.0,4.5]}';

interface Answer {
  status: number;
  text: string;
}

/** POSTs raw bytes with the given Content-Encoding over a fresh connection. */
function post(url: string, body: Buffer, encoding: string | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': String(body.length),
          ...(encoding === undefined ? {} : { 'content-encoding': encoding }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    // The server may answer (413) before the whole body is sent and close the connection.
    req.on('error', reject);
    req.end(body);
  });
}

describe('REST request bodies with Content-Encoding', () => {
  let ts: TestServer;
  let url: string;
  before(async () => {
    ts = await startTestServer({
      server: { grpc_port: -1, limits: { max_body_bytes: LIMIT } },
      models: [{ name: 'half_plus_two', base_path: 'models/half_plus_two' }],
    });
    url = `${ts.restUrl}/v1/models/half_plus_two:predict`;
  });
  after(() => ts.close());

  const encoders: [string, (b: Buffer) => Buffer][] = [
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
    ['GZIP', gzipSync],
  ];
  for (const [name, encode] of encoders) {
    it(`decodes a ${name} body before the codecs see it`, async () => {
      const r = await post(url, encode(Buffer.from(PREDICT)), name);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.text, ANSWER);
    });
  }

  it('decodes a gzip KServe v2 JSON body', async () => {
    const body = gzipSync(
      Buffer.from('{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1.0,2.0]}]}'),
    );
    const r = await post(`${ts.restUrl}/v2/models/half_plus_two/infer`, body, 'gzip');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((JSON.parse(r.text) as { outputs: { data: number[] }[] }).outputs[0].data, [2.5, 3]);
  });

  it('identity and no header pass the body through', async () => {
    assert.equal((await post(url, Buffer.from(PREDICT), 'identity')).text, ANSWER);
    assert.equal((await post(url, Buffer.from(PREDICT), undefined)).text, ANSWER);
  });

  for (const name of ['gzip', 'deflate', 'br']) {
    it(`a plain body labelled ${name} is a 400 naming the coding`, async () => {
      const r = await post(url, Buffer.from(PREDICT), name);
      assert.equal(r.status, 400, r.text);
      assert.equal(
        (JSON.parse(r.text) as { error: string }).error,
        `Request body is not valid ${name} data (Content-Encoding: ${name})`,
      );
    });
  }

  it('a truncated gzip body is a 400', async () => {
    const whole = gzipSync(Buffer.from(PREDICT));
    const r = await post(url, whole.subarray(0, whole.length - 6), 'gzip');
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /not valid gzip data/);
  });

  for (const name of ['compress', 'zstd', 'gzip, deflate', 'x'.repeat(500)]) {
    it(`an unsupported coding (${name.slice(0, 20)}) is a 415 naming it`, async () => {
      const r = await post(url, Buffer.from(PREDICT), name);
      assert.equal(r.status, 415, r.text);
      const error = (JSON.parse(r.text) as { error: string }).error;
      assert.match(error, /^Content-Encoding '.*' is not supported \(supported: gzip, deflate, br, identity/);
      assert.ok(error.length < 300, 'the echoed coding is truncated');
    });
  }

  it('a gzip bomb is refused at the body limit and the server keeps serving', async () => {
    // 64 MiB of zeros compresses to about 64 KiB: under the limit on the wire, far over it decoded.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    assert.ok(bomb.length < LIMIT);
    for (let i = 0; i < 5; i++) {
      const r = await post(url, bomb, 'gzip');
      assert.equal(r.status, 413, r.text);
      assert.match(r.text, /larger than the limit of 200000 bytes/);
    }
    const ok = await post(url, gzipSync(Buffer.from(PREDICT)), 'gzip');
    assert.equal(ok.text, ANSWER);
  });

  it('a decoded body just over the limit is 413, just under is decoded', async () => {
    // A JSON body padded with spaces to an exact decoded size.
    const sized = (n: number) => Buffer.from(PREDICT + ' '.repeat(n - PREDICT.length));
    const under = await post(url, gzipSync(sized(LIMIT)), 'gzip');
    assert.equal(under.status, 200, under.text);
    const over = await post(url, gzipSync(sized(LIMIT + 1)), 'gzip');
    assert.equal(over.status, 413, over.text);
  });
});
