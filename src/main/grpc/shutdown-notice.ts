/**
 * How the drain ends each gRPC HTTP/2 session without losing a call that a proxy sent as the
 * shutdown began (nginx 1.22 cannot replay a gRPC call, and answers 502 to one whose stream
 * is above the last-stream-id of the server's GOAWAY).
 *
 * RFC 9113 §6.8 suggests a first GOAWAY with last-stream-id 2^31-1, then the final one after
 * a round trip. Node's http2 cannot send that first GOAWAY: `session.goaway(NO_ERROR, 2^31-1)`
 * makes nghttp2 record a GOAWAY as sent, after which it ignores every new stream (no 'stream'
 * event, no RST_STREAM: the call hangs) and Node stops reading a session with no open stream;
 * nghttp2_submit_shutdown_notice has no Node binding, and a frame written on the socket by
 * hand races Node's own writes (Node aborts on a write it did not start).
 *
 * So the round trip is a PING: the final GOAWAY (session.close(), last stream id received)
 * goes out once the peer has answered a PING sent now, since a peer answers after everything
 * it sent before. And it goes out while the peer has a stream open on the session, so that a
 * proxy sees it before that call's end and does not reuse the connection; a session idle at
 * the answer gets another PING (nginx closes an idle upstream connection on which anything
 * arrives), and after IDLE_ROUNDS idle answers in a row its final GOAWAY.
 */

/** Idle PING answers in a row after which an idle session gets its final GOAWAY. */
export const IDLE_ROUNDS = 3;
/** Pause between two PINGs to an idle session. */
const ROUND_GAP_MS = 10;

/** The parts of a server Http2Session the drain uses. */
export interface NoticeSession {
  readonly closed: boolean;
  readonly destroyed: boolean;
  ping(callback: (err: Error | null) => void): boolean;
  close(): void;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * One drain over every session. `start` begins it on the sessions open now, `add` on one that
 * opens later. The promise of `start` resolves once every session has had its final GOAWAY
 * (or closed), or after `timeoutMs`, whichever is first; the caller then closes the rest.
 */
export class ShutdownNotice {
  readonly #waiting = new Set<NoticeSession>();
  #settle: (() => void) | undefined;
  #settled = false;

  constructor(
    /** Streams the peer has open on `session` now. */
    private readonly openStreams: (session: NoticeSession) => number,
  ) {}

  /** True once `start` was called: sessions opening from now on are drained the same way. */
  get started(): boolean {
    return this.#settle !== undefined;
  }

  start(sessions: Iterable<NoticeSession>, timeoutMs: number): Promise<void> {
    if (this.#settle !== undefined) throw new Error('ShutdownNotice.start called twice');
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.#settle?.(), timeoutMs);
      this.#settle = () => {
        this.#settled = true;
        clearTimeout(timer);
        resolve();
      };
      for (const session of sessions) this.add(session);
      this.#settleIfDone();
    });
  }

  /** Drains `session`: PING rounds, then its final GOAWAY (see the module comment). */
  add(session: NoticeSession): void {
    if (this.#settle === undefined || this.#settled || session.closed) return;
    this.#waiting.add(session);
    const done = () => {
      this.#waiting.delete(session);
      this.#settleIfDone();
    };
    const finish = () => {
      if (!session.closed && !session.destroyed) session.close();
      done();
    };
    session.once('close', done);
    let idle = 0;
    const round = () => {
      if (this.#settled || !this.#waiting.has(session)) return;
      try {
        const sent = session.ping((err) => {
          if (err !== null || this.#settled || !this.#waiting.has(session)) return done();
          if (this.openStreams(session) > 0 || ++idle >= IDLE_ROUNDS) return finish();
          setTimeout(round, ROUND_GAP_MS);
        });
        if (!sent) finish();
      } catch {
        finish();
      }
    };
    round();
  }

  #settleIfDone(): void {
    if (this.#waiting.size === 0) this.#settle?.();
  }
}
