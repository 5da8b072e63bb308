import autocannon from 'autocannon';
import { LatencyRecorder, type LoadResult } from './latency.js';
import type { RequestSpec } from './scenarios.js';

export interface RestLoadOptions {
  /** `http://127.0.0.1:<port>`; only local servers are load-tested. */
  readonly baseUrl: string;
  readonly request: RequestSpec;
  /** Connections, each with one request in flight. */
  readonly concurrency: number;
  readonly durationS: number;
}

/**
 * Closed-loop HTTP load with autocannon: `concurrency` connections, one request in flight
 * each, for `durationS` seconds. Latencies go into our own histogram so every protocol
 * reports the same percentiles. Resolves when the run is over; never rejects for HTTP errors.
 */
export function runRestLoad(o: RestLoadOptions): Promise<LoadResult> {
  const recorder = new LatencyRecorder();
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.baseUrl + o.request.path,
        connections: o.concurrency,
        duration: o.durationS,
        pipelining: 1,
        timeout: 30,
        method: o.request.method,
        headers: o.request.headers,
        body: o.request.body,
      },
      (err) => {
        if (err) return reject(err);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        resolve(recorder.result(o.concurrency, seconds));
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
      if (statusCode >= 200 && statusCode < 300) recorder.recordOk(ms * 1000);
      else recorder.recordError(`HTTP ${statusCode}`);
    });
    instance.on('reqError', (e: Error) => recorder.recordError(e.message));
  });
}

/** Sends the request once and throws with the server's answer unless it is 2xx (a pre-flight check). */
export async function checkRestRequest(baseUrl: string, request: RequestSpec): Promise<void> {
  const res = await fetch(baseUrl + request.path, {
    method: request.method,
    headers: request.headers,
    body: request.body,
  });
  const text = await res.text();
  if (res.status < 200 || res.status >= 300)
    throw new Error(`${request.method} ${request.path} answered ${res.status}: ${text.slice(0, 500)}`);
}
