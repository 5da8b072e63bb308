import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../../src/main/grpc/grpc-protos.js';
import type { GrpcClient } from '../fixtures/grpc-client.js';

/** What one protocol's steady load saw. */
export interface LoadCounts {
  ok: number;
  failed: number;
  /** Requests sent and not yet answered, now. */
  inFlight: number;
  /** The first few failures, for the assertion message. */
  failures: string[];
}

type ClientCtor = new (
  address: string,
  creds: grpc.ChannelCredentials,
  options: grpc.ChannelOptions,
) => GrpcClient;
const PredictionClient = (
  loadProtos().grpcObject.tensorflow as unknown as { serving: Record<string, ClientCtor> }
).serving.PredictionService;

const X = [1, 2, 5];
const Y = [2.5, 3, 4.5];

function newCounts(): LoadCounts {
  return { ok: 0, failed: 0, inFlight: 0, failures: [] };
}

function fail(c: LoadCounts, what: string): void {
  c.failed++;
  if (c.failures.length < 10) c.failures.push(what);
}

/** Decodes a float TensorProto (tensor_content or float_val). */
function floats(t: { tensor_content?: Buffer; float_val?: number[] } | undefined): number[] {
  if (!t) return [];
  if (t.tensor_content && t.tensor_content.length > 0) {
    const b = Buffer.from(t.tensor_content);
    return Array.from(new Float32Array(b.buffer, b.byteOffset, b.length / 4));
  }
  return t.float_val ?? [];
}

const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export interface LoadOptions {
  readonly model: string;
  /** TF Serving REST JSON predict loops against this base URL. */
  readonly restUrl?: string;
  readonly restConcurrency?: number;
  /** TF Serving gRPC Predict loops against these addresses, one channel each. */
  readonly grpcAddresses?: readonly string[];
}

/**
 * Steady closed-loop load: `restConcurrency` REST JSON predict loops and one gRPC Predict
 * loop per channel, each request checked for the right answer. A request fails when it
 * errors, answers a non-200 status or a wrong result.
 */
export class SteadyLoad {
  readonly rest = newCounts();
  readonly grpc = newCounts();
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly clients: GrpcClient[] = [];

  constructor(private readonly o: LoadOptions) {
    for (let i = 0; i < (o.restUrl ? (o.restConcurrency ?? 4) : 0); i++) this.loops.push(this.restLoop());
    for (const address of o.grpcAddresses ?? []) {
      // A connection of its own per loop (no shared subchannel pool), like separate client processes.
      const client = new PredictionClient(address, grpc.credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
      });
      this.clients.push(client);
      this.loops.push(this.grpcLoop(client));
    }
  }

  get total(): { ok: number; failed: number; inFlight: number } {
    return {
      ok: this.rest.ok + this.grpc.ok,
      failed: this.rest.failed + this.grpc.failed,
      inFlight: this.rest.inFlight + this.grpc.inFlight,
    };
  }

  /** Stops the loops and waits for their last requests. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    for (const c of this.clients) c.close();
  }

  private async restLoop(): Promise<void> {
    const url = `${this.o.restUrl}/v1/models/${this.o.model}:predict`;
    const body = JSON.stringify({ instances: X });
    while (this.running) {
      const c = this.rest;
      c.inFlight++;
      try {
        const res = await fetch(url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        if (res.status !== 200) fail(c, `REST ${res.status}: ${text.slice(0, 200)}`);
        else if (!same((JSON.parse(text) as { predictions: number[] }).predictions, Y))
          fail(c, `REST wrong answer ${text}`);
        else c.ok++;
      } catch (err) {
        const cause = (err as { cause?: { message?: string } }).cause?.message;
        fail(c, `REST ${(err as Error).message}${cause ? `: ${cause}` : ''}`);
      } finally {
        c.inFlight--;
      }
    }
  }

  private async grpcLoop(client: GrpcClient): Promise<void> {
    const request = {
      model_spec: { name: this.o.model },
      inputs: {
        x: {
          dtype: 'DT_FLOAT',
          tensor_shape: { dim: [{ size: String(X.length) }] },
          tensor_content: Buffer.from(new Float32Array(X).buffer),
        },
      },
    };
    while (this.running) {
      const c = this.grpc;
      c.inFlight++;
      try {
        const res = await new Promise<{
          outputs: Record<string, { tensor_content?: Buffer; float_val?: number[] }>;
        }>((resolve, reject) =>
          client.Predict(
            request,
            new grpc.Metadata(),
            { deadline: Date.now() + 30_000 },
            (err: Error | null, r: never) => (err ? reject(err) : resolve(r)),
          ),
        );
        if (!same(floats(res.outputs?.y), Y)) fail(c, `gRPC wrong answer ${JSON.stringify(res.outputs)}`);
        else c.ok++;
      } catch (err) {
        fail(c, `gRPC ${(err as Error).message}`);
      } finally {
        c.inFlight--;
      }
    }
  }
}

/** Runs `fn` while the load runs for at least `minMs`, then stops the load. */
export async function underLoad<T>(load: SteadyLoad, fn: () => Promise<T>, settleMs = 1000): Promise<T> {
  try {
    await new Promise((r) => setTimeout(r, settleMs));
    const out = await fn();
    await new Promise((r) => setTimeout(r, settleMs));
    return out;
  } finally {
    await load.stop();
  }
}
