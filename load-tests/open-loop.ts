import http from 'node:http';
import { LatencyRecorder, type LoadResult } from './latency.js';
import type { RequestSpec } from './scenarios.js';

export interface OpenLoopOptions {
  /** `http://127.0.0.1:<port>`; only local servers are load-tested. */
  readonly baseUrl: string;
  readonly request: RequestSpec;
  /** Requests started per second, at fixed intervals whatever the answers (open loop). */
  readonly ratePerS: number;
  readonly durationS: number;
  /** Requests in flight at most; a send due while at the cap is skipped and counted (default 512). */
  readonly maxOutstanding?: number;
  /** A request unanswered after this long is abandoned and counted as `"timeout"` (default 30). */
  readonly requestTimeoutS?: number;
}

/** An open-loop run: LoadResult over the 2xx answers plus every status seen. */
export interface OpenLoopResult extends LoadResult {
  /** Requests started. */
  readonly sent: number;
  /** Sends skipped because `maxOutstanding` requests were already in flight. */
  readonly skipped: number;
  /** Answers by HTTP status (`"200"`, `"429"`, ...), transport errors (`"error"`) and `"timeout"`. */
  readonly statuses: Readonly<Record<string, number>>;
}

/**
 * Open-loop HTTP load: sends start on a fixed schedule (`ratePerS`), not when answers come
 * back, so a slow server does not slow the client down. Latency runs from each request's
 * scheduled start to the end of its answer, so client-side lateness counts too (no
 * coordinated omission). Resolves when the schedule is over and every request has answered;
 * never rejects for HTTP errors. Owns its keep-alive agent and destroys it at the end.
 */
export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(o.request.path, o.baseUrl);
  const maxOutstanding = o.maxOutstanding ?? 512;
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxOutstanding });
  const recorder = new LatencyRecorder();
  const statuses: Record<string, number> = {};
  const count = (key: string) => {
    statuses[key] = (statuses[key] ?? 0) + 1;
  };
  const headers = { ...o.request.headers, 'content-length': String(o.request.body.length) };
  const intervalNs = 1e9 / o.ratePerS;
  const total = Math.floor(o.durationS * o.ratePerS);
  let sent = 0;
  let skipped = 0;
  let outstanding = 0;
  let settle: () => void = () => {};
  const drained = new Promise<void>((resolve) => {
    settle = resolve;
  });
  let scheduleDone = false;
  const maybeDone = () => {
    if (scheduleDone && outstanding === 0) settle();
  };

  const send = (scheduled: bigint) => {
    outstanding++;
    sent++;
    let finished = false;
    const done = (status: string, ok: boolean) => {
      if (finished) return;
      finished = true;
      count(status);
      if (ok) recorder.recordOk(Number(process.hrtime.bigint() - scheduled) / 1000);
      else recorder.recordError(status === 'error' || status === 'timeout' ? status : `HTTP ${status}`);
      outstanding--;
      maybeDone();
    };
    const req = http.request(url, { method: o.request.method, headers, agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        done(String(code), code >= 200 && code < 300);
      });
      res.on('error', () => done('error', false));
    });
    req.on('error', () => done('error', false));
    req.setTimeout((o.requestTimeoutS ?? 30) * 1000, () => {
      done('timeout', false);
      req.destroy();
    });
    req.end(o.request.body);
  };

  const started = process.hrtime.bigint();
  let issued = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = process.hrtime.bigint();
      const due = Math.min(total, Math.floor(Number(now - started) / intervalNs) + 1);
      for (; issued < due; issued++) {
        const scheduled = started + BigInt(Math.round(issued * intervalNs));
        if (outstanding >= maxOutstanding) skipped++;
        else send(scheduled);
      }
      if (issued >= total) return resolve();
      const nextAt = started + BigInt(Math.round(issued * intervalNs));
      setTimeout(tick, Math.max(0, Number(nextAt - process.hrtime.bigint()) / 1e6));
    };
    tick();
  });
  scheduleDone = true;
  maybeDone();
  await drained;
  agent.destroy();
  const base = recorder.result(0, Number(process.hrtime.bigint() - started) / 1e9);
  return { ...base, sent, skipped, statuses };
}
