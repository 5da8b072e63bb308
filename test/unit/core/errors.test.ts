import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clientError,
  codeOfGrpc,
  ERROR_CODES,
  type ErrorCode,
  errorMessage,
  grpcCodeOf,
  httpStatusOf,
  INTERNAL_MESSAGE,
  isServingErrorLike,
  MAX_CLIENT_MESSAGE,
  ServingError,
} from '../../../src/core/errors.js';

describe('ServingError', () => {
  it('truncates a message longer than MAX_CLIENT_MESSAGE', () => {
    const e = new ServingError('INVALID_ARGUMENT', 'x'.repeat(MAX_CLIENT_MESSAGE + 10));
    assert.equal(e.message.length, MAX_CLIENT_MESSAGE);
    assert.ok(e.message.endsWith('...'));
  });

  it('from() passes ServingErrors through and rebuilds plain error objects from workers', () => {
    const e = new ServingError('NOT_FOUND', 'gone');
    assert.equal(ServingError.from(e), e);
    const plain = ServingError.from({ code: 'UNAVAILABLE', message: 'busy' });
    assert.equal(plain.code, 'UNAVAILABLE');
    assert.equal(plain.message, 'busy');
  });

  it('keeps code, retry hint and the permanent mark, and the code table, on the error', () => {
    const e = new ServingError('RESOURCE_EXHAUSTED', 'full', { retryAfterSeconds: 3, permanent: true });
    assert.equal(e.name, 'ServingError');
    assert.ok(e instanceof Error);
    assert.equal(e.httpStatus, 429);
    assert.equal(e.grpcCode, 8);
    assert.equal(e.retryAfterSeconds, 3);
    assert.equal(e.permanent, true);
    const plain = new ServingError('NOT_FOUND', 'gone');
    assert.equal(plain.permanent, false);
    assert.equal(plain.retryAfterSeconds, undefined);
    assert.equal(plain.cause, undefined);
  });

  it('does not truncate a message of exactly MAX_CLIENT_MESSAGE characters', () => {
    const text = 'y'.repeat(MAX_CLIENT_MESSAGE);
    assert.equal(new ServingError('INVALID_ARGUMENT', text).message, text);
  });

  it('from() keeps the permanent mark of a plain error object from a worker, and only a true one', () => {
    const permanent = ServingError.from({ code: 'RESOURCE_EXHAUSTED', message: 'budget', permanent: true });
    assert.equal(permanent.permanent, true);
    assert.equal(
      ServingError.from({ code: 'RESOURCE_EXHAUSTED', message: 'b', permanent: 'yes' }).permanent,
      false,
    );
    const cause = { code: 'UNAVAILABLE', message: 'busy' };
    assert.equal(ServingError.from(cause).cause, cause);
  });

  it('from() turns objects that only look like errors into INTERNAL', () => {
    for (const v of [
      { code: 'NOPE', message: 'x' },
      { code: 'NOT_FOUND' },
      { code: 5, message: 'x' },
      null,
      42,
    ]) {
      const e = ServingError.from(v);
      assert.equal(e.code, 'INTERNAL', JSON.stringify(v));
      assert.equal(e.message, INTERNAL_MESSAGE);
      assert.equal(e.cause, v);
    }
  });

  it('from() turns anything else into INTERNAL with a generic message, the original as cause', () => {
    const raw = new Error('/srv/secret.cc:12 exploded');
    const e = ServingError.from(raw);
    assert.equal(e.code, 'INTERNAL');
    assert.equal(e.message, INTERNAL_MESSAGE);
    assert.equal(e.cause, raw);
    assert.equal(ServingError.from('a string').message, INTERNAL_MESSAGE);
  });
});

describe('isServingErrorLike and errorMessage', () => {
  it('recognizes only objects with a known code and a string message', () => {
    assert.equal(isServingErrorLike({ code: 'INTERNAL', message: '' }), true);
    assert.equal(isServingErrorLike(new ServingError('ABORTED', 'a')), true);
    assert.equal(isServingErrorLike({ code: 'internal', message: 'x' }), false);
    assert.equal(isServingErrorLike({ code: 'INTERNAL', message: 1 }), false);
    assert.equal(isServingErrorLike(Object.assign(new Error('x'), { code: 'ENOENT' })), false);
    assert.equal(isServingErrorLike(undefined), false);
  });

  it('errorMessage reads an Error message and stringifies anything else', () => {
    assert.equal(errorMessage(new TypeError('bad')), 'bad');
    assert.equal(errorMessage('text'), 'text');
    assert.equal(errorMessage(7), '7');
    assert.equal(errorMessage(undefined), 'undefined');
  });
});

describe('clientError', () => {
  it('passes a client-facing error as it is, with nothing to log', () => {
    const e = new ServingError('RESOURCE_EXHAUSTED', 'slow down', { retryAfterSeconds: 2 });
    const c = clientError(e, 'r1');
    assert.equal(c.error, e);
    assert.equal(c.internal, undefined);
  });

  for (const code of ['INTERNAL', 'UNKNOWN', 'DATA_LOSS'] as const) {
    it(`hides the message of a ${code} ServingError behind the request id`, () => {
      const e = new ServingError(code, 'Error running model m: /onnxruntime_src/bfc_arena.cc:360');
      const c = clientError(e, 'r2');
      assert.equal(c.error.code, 'INTERNAL');
      assert.equal(c.error.message, 'Internal error (request id r2)');
      assert.equal(c.internal, e);
      assert.equal(c.error.cause, e);
    });
  }

  it('hides a plain Error and logs the original, not its generic wrapper', () => {
    const raw = new TypeError('undefined is not a function at /srv/x.js:1');
    const viaFrom = clientError(ServingError.from(raw), 'r3');
    assert.equal(viaFrom.error.message, 'Internal error (request id r3)');
    assert.equal(viaFrom.internal, raw);
    const direct = clientError(raw, 'r4');
    assert.equal(direct.error.code, 'INTERNAL');
    assert.equal(direct.internal, raw);
  });

  it('keeps the retry hint of a client-facing error object from a worker', () => {
    const c = clientError({ code: 'UNAVAILABLE', message: 'Server is draining' }, 'r6');
    assert.equal(c.error.code, 'UNAVAILABLE');
    assert.equal(c.error.message, 'Server is draining');
    assert.equal(c.internal, undefined);
  });

  it('hides a thrown non-Error value too', () => {
    const c = clientError('raw string from a bug', 'r7');
    assert.equal(c.error.code, 'INTERNAL');
    assert.equal(c.error.message, 'Internal error (request id r7)');
    assert.equal(c.internal, 'raw string from a bug');
    assert.equal(c.error.cause, 'raw string from a bug');
  });

  it('hides an internal error object that crossed from a worker', () => {
    const c = clientError({ code: 'INTERNAL', message: 'native detail' }, 'r5');
    assert.equal(c.error.message, 'Internal error (request id r5)');
    assert.doesNotMatch(c.error.message, /native/);
  });
});

describe('the error code table', () => {
  it('maps every code to a distinct gRPC status and an HTTP error status, and back', () => {
    const codes = Object.keys(ERROR_CODES) as ErrorCode[];
    assert.equal(new Set(codes.map(grpcCodeOf)).size, codes.length);
    for (const code of codes) {
      assert.equal(codeOfGrpc(grpcCodeOf(code)), code);
      const http = httpStatusOf(code);
      assert.ok(code === 'OK' ? http === 200 : http >= 400 && http < 600, `${code} → ${http}`);
    }
  });

  it('maps a gRPC status number outside the table to UNKNOWN', () => {
    assert.equal(codeOfGrpc(17), 'UNKNOWN');
    assert.equal(codeOfGrpc(-1), 'UNKNOWN');
    assert.equal(codeOfGrpc(14), 'UNAVAILABLE');
  });
});

describe('the error code table in README.md', () => {
  it('lists every code with its HTTP and gRPC status, and nothing else', async () => {
    const { readFileSync } = await import('node:fs');
    const { REPO_ROOT } = await import('../../fixtures/repo-root.js');
    const readme = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');
    const rows = [...readme.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|$/gm)].map((m) => [
      m[1],
      Number(m[2]),
      Number(m[3]),
    ]);
    const expected = (Object.keys(ERROR_CODES) as ErrorCode[]).map((c) => [
      c,
      httpStatusOf(c),
      grpcCodeOf(c),
    ]);
    assert.deepEqual(rows, expected);
  });
});
