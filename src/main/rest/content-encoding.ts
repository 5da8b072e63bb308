import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance } from 'fastify';

/** The request body codings the REST front end decodes (RFC 9110 names; `x-gzip` is gzip). */
export const SUPPORTED_CONTENT_ENCODINGS = ['gzip', 'x-gzip', 'deflate', 'br', 'identity'] as const;

/** Error code fastify's body reader reports when the decoded body passes the body limit. */
const BODY_TOO_LARGE = 'FST_ERR_CTP_BODY_TOO_LARGE';

/** A decoder's output stream, carrying the encoded byte count fastify checks against Content-Length. */
type DecodedPayload = Transform & { receivedEncodedLength: number };

/**
 * Registers the preParsing hook that decodes `Content-Encoding: gzip | deflate | br` request
 * bodies before fastify reads them, so the codecs only ever see plain bytes.
 *
 * Limits: the decoded size is capped at `maxBodyBytes` (fastify's body limit applies to the
 * decoded stream, and the decoder itself stops at the first byte past it, so a bomb costs at
 * most `maxBodyBytes` of output before it is refused with 413). An unknown coding, or a list
 * of codings, answers 415 naming it; bytes that are not valid for the declared coding answer
 * 400. `identity` and an absent header pass the body through untouched.
 */
export function registerContentDecoding(app: FastifyInstance, maxBodyBytes: number): void {
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const coding = codingOf(request.headers['content-encoding']);
    if (coding instanceof Error) return done(coding);
    if (coding === undefined) return done(null, payload);
    const decoder = decoderFor(coding);
    const decoded = capped(maxBodyBytes);
    const raw = payload as IncomingMessage;
    raw.on('data', (chunk: Buffer) => {
      decoded.receivedEncodedLength += chunk.length;
    });
    raw.on('error', (err) => decoded.destroy(err));
    decoder.on('error', (err) => decoded.destroy(invalidCoding(coding, err)));
    decoded.on('close', () => {
      decoder.destroy();
      // The rest of a refused body is not worth decoding; Node discards what is unread.
      raw.unpipe(decoder);
    });
    raw.pipe(decoder).pipe(decoded);
    done(null, decoded);
  });
}

/** The single coding a Content-Encoding header names; undefined for none or identity; an Error (415) otherwise. */
function codingOf(header: string | string[] | undefined): string | undefined | Error {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header.join(',') : header).trim().toLowerCase();
  if (value === '' || value === 'identity') return undefined;
  if (!(SUPPORTED_CONTENT_ENCODINGS as readonly string[]).includes(value)) {
    const shown = value.length > 64 ? `${value.slice(0, 64)}...` : value;
    return unsupported(
      `Content-Encoding '${shown}' is not supported (supported: gzip, deflate, br, identity; one coding per request)`,
    );
  }
  return value;
}

function decoderFor(coding: string): Transform {
  if (coding === 'br') return createBrotliDecompress();
  if (coding === 'deflate') return createInflate();
  return createGunzip();
}

/** A pass-through stream that fails with fastify's body-limit error past `limit` bytes. */
function capped(limit: number): DecodedPayload {
  let seen = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (seen > limit) {
        const err = Object.assign(new Error('decoded request body is over the body limit'), {
          code: BODY_TOO_LARGE,
          statusCode: 413,
        });
        cb(err);
        return;
      }
      cb(null, chunk);
    },
  }) as DecodedPayload;
  stream.receivedEncodedLength = 0;
  return stream;
}

/** Bytes that do not decode: 400 (the error handler turns a 4xx into INVALID_ARGUMENT). */
function invalidCoding(coding: string, cause: Error): Error {
  return Object.assign(
    new Error(`Request body is not valid ${coding} data (Content-Encoding: ${coding})`, { cause }),
    { statusCode: 400 },
  );
}

/** Error code of a refused Content-Encoding; the REST error handler answers it with 415. */
export const UNSUPPORTED_ENCODING = 'TS_ERR_UNSUPPORTED_CONTENT_ENCODING';

function unsupported(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 415, code: UNSUPPORTED_ENCODING });
}
