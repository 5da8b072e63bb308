import type * as grpc from '@grpc/grpc-js';
import { ServingError } from '../../core/errors.js';
import { type InternalErrorHook, unary } from './grpc-call.js';

export type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

interface Watcher {
  readonly service: string;
  readonly call: grpc.ServerWritableStream<unknown, unknown>;
  last: ServingStatus | undefined;
}

/**
 * `grpc.health.v1.Health`. A known service is SERVING while the front end is serving (not
 * draining) and `ready()` holds; `""` stands for the whole server. Watchers get the current
 * status at once and then every change: changes made through `setServing` immediately,
 * changes of `ready()` alone within `pollMs` (polled only while someone watches).
 *
 * Owned by the gRPC server; `close()` ends every Watch stream.
 */
export class HealthService {
  private serving = true;
  private readonly watchers = new Set<Watcher>();
  private poll: NodeJS.Timeout | undefined;
  private readonly services: ReadonlySet<string>;

  /**
   * `modelServing` answers for any other name: a model's own health (true SERVING, false
   * NOT_SERVING, undefined SERVICE_UNKNOWN); without it only the known services exist.
   */
  constructor(
    private readonly ready: () => boolean,
    services: readonly string[],
    private readonly pollMs = 1000,
    private readonly modelServing?: (model: string) => boolean | undefined,
  ) {
    this.services = new Set(['', ...services]);
  }

  /**
   * Status of one service: `""` and the served gRPC services follow the server's readiness;
   * a model name follows that model's readiness; SERVICE_UNKNOWN for anything else.
   */
  statusOf(service: string): ServingStatus {
    if (!this.services.has(service)) {
      const model = service === '' ? undefined : this.modelServing?.(service);
      if (model === undefined) return 'SERVICE_UNKNOWN';
      return this.serving && model ? 'SERVING' : 'NOT_SERVING';
    }
    return this.serving && this.ready() ? 'SERVING' : 'NOT_SERVING';
  }

  isServing(): boolean {
    return this.serving;
  }

  setServing(serving: boolean): void {
    this.serving = serving;
    this.notify();
  }

  /** Re-evaluates every watched status and sends the ones that changed. */
  notify(): void {
    for (const w of this.watchers) this.send(w);
  }

  close(): void {
    this.stopPolling();
    for (const w of this.watchers) w.call.end();
    this.watchers.clear();
  }

  handlers(onInternalError: InternalErrorHook): grpc.UntypedServiceImplementation {
    const env = { authenticate: undefined, onInternalError };
    return {
      Check: unary<{ service?: string }, unknown>('Check', env, (req) => {
        const status = this.statusOf(req.service ?? '');
        if (status === 'SERVICE_UNKNOWN')
          throw new ServingError('NOT_FOUND', `Unknown service: ${req.service}`);
        return { status };
      }),
      Watch: (call: grpc.ServerWritableStream<{ service?: string }, unknown>) => this.watch(call),
    };
  }

  private watch(call: grpc.ServerWritableStream<{ service?: string }, unknown>): void {
    const w: Watcher = { service: call.request.service ?? '', call, last: undefined };
    this.watchers.add(w);
    const remove = () => {
      this.watchers.delete(w);
      if (this.watchers.size === 0) this.stopPolling();
    };
    call.on('cancelled', remove);
    call.on('error', remove);
    call.on('finish', remove);
    this.send(w);
    if (this.poll === undefined) {
      this.poll = setInterval(() => this.notify(), this.pollMs);
      this.poll.unref();
    }
  }

  private send(w: Watcher): void {
    const status = this.statusOf(w.service);
    if (status === w.last) return;
    w.last = status;
    w.call.write({ status });
  }

  private stopPolling(): void {
    if (this.poll !== undefined) clearInterval(this.poll);
    this.poll = undefined;
  }
}
