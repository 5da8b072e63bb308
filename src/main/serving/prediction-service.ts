import type { BatchTimings } from '../../batching/executor.js';
import type { CallerIdentity } from '../../core/caller-identity.js';
import type { CancelSignal } from '../../core/cancel-signal.js';
import { ServingError } from '../../core/errors.js';
import { rejectNulStrings, selectOutputs, validateInputs } from '../../core/input-validation.js';
import type { ModelMetadataResult } from '../../core/model-metadata.js';
import type { Platform } from '../../core/platform.js';
import { DEFAULT_SIGNATURE_NAME, type Signature } from '../../core/signature.js';
import type { TensorMap } from '../../core/tensor.js';
import type { VersionSelector } from '../../core/version-selector.js';
import type { VersionStatus } from '../../core/version-status.js';
import type { ExampleSignature } from '../config/example-signatures.js';
import type { ModelConfig } from '../config/model-config.js';
import type { ServableHandle } from '../lifecycle/servable.js';
import type { AdmissionController, AdmissionTicket } from '../tenancy/admission.js';
import type { InFlightGate } from '../tenancy/in-flight-gate.js';
import { exampleSignatureDefs } from './example-signature-defs.js';
import type { InferenceCore, PredictCall, PredictResult } from './inference-core.js';
import type { ModelLookup } from './model-lookup.js';

/** What the prediction service needs from the lifecycle manager. */
export interface ServableSource {
  acquire(name: string, selector: VersionSelector): ServableHandle;
  status(name: string, selector?: VersionSelector): VersionStatus[];
  modelNames(): string[];
  availableVersions(name: string): number[];
  isReady(): boolean;
  /** The model is in the list and has an AVAILABLE version. Never throws. */
  isModelReady(name: string): boolean;
  /** Why a listed model is not served as configured; undefined when it is. Never throws. */
  loadError(name: string): ServingError | undefined;
  setModels(models: readonly ModelConfig[]): Promise<void>;
  /**
   * acquire(), loading an on-demand model's version first when it is not resident, waiting at
   * most until `deadline` (epoch ms) or the model's cold-start timeout. Absent: acquire().
   */
  acquireResident?(
    name: string,
    selector: VersionSelector,
    bounds: { deadline?: number; signal?: CancelSignal },
  ): Promise<ServableHandle>;
  /**
   * True when `name` loads on demand, so a request may have to wait for a load
   * (acquireResident); false lets the service acquire synchronously, without a promise per
   * request. Absent: every model is treated as possibly on demand.
   */
  loadsOnDemand?(name: string): boolean;
  /** Signature of a non-resident on-demand version read from its file, if its runtime allows. */
  offlineSignature?(
    name: string,
    selector: VersionSelector,
  ): { version: number; platform: Platform; signature: Signature } | undefined;
  /** True when the selected version is not resident but a request would load it (on demand). */
  loadableOnDemand?(name: string, selector: VersionSelector): boolean;
}

/**
 * What the prediction service needs from the batch scheduler. `deadline` is on `clock`'s
 * scale; the service converts the front ends' epoch (Date.now()) deadlines when it enqueues.
 */
export interface RequestQueue {
  readonly clock: { now(): number };
  enqueue(
    key: string,
    req: {
      inputs: TensorMap;
      outputNames: readonly string[];
      deadline?: number;
      signal?: CancelSignal;
      tenant?: string;
      onStart?: () => void;
    },
  ): Promise<{ outputs: TensorMap; queueMicros: number; batchSize: number; timings: BatchTimings }>;
}

/** Outcome of one predict call, for metrics and logs. */
export interface PredictObservation {
  readonly model: string;
  readonly version: number | undefined;
  readonly tenant: string | undefined;
  readonly api: string;
  readonly entrypoint: string;
  readonly code: string;
  readonly latencyMicros: number;
  readonly rows: number;
  readonly queueMicros: number;
  readonly timings: BatchTimings | undefined;
  /** The resolved version's platform (`onnx`, `tfjs`, ...); undefined before resolution. */
  readonly runtime: string | undefined;
  /** On-demand models: whether the version was resident (hit) or the call waited for its load (miss). */
  readonly residency?: 'hit' | 'miss';
}

export interface PredictionServiceOptions {
  readonly servables: ServableSource;
  readonly queue: RequestQueue;
  readonly namespace: ModelLookup;
  readonly maxTensorElements: number;
  /**
   * Per-tenant quotas (rate, max queued, server-wide queue bound), consulted before a request
   * is queued; none when absent.
   */
  readonly admission?: AdmissionController;
  /** Per-tenant `max_in_flight`; none when absent. */
  readonly inFlight?: InFlightGate;
  /** Called once per predict, success or failure. Must not throw. */
  readonly observe?: (o: PredictObservation) => void;
  /** Declared tf.Example signatures of a model by its internal name, for metadata. */
  readonly exampleSignatures?: (internal: string) => Readonly<Record<string, ExampleSignature>> | undefined;
  /** Reloads models through the same path as a config file reload (set by the server). */
  readonly reload?: (models: readonly ModelConfig[]) => Promise<void>;
}

/**
 * The one core every front end calls. Resolves names through the tenant namespace, admits the
 * request under its tenant's quotas, leases a version from the manager for the whole call,
 * validates inputs against that version's signature and hands them to the batch scheduler
 * (after a slot under the tenant's `max_in_flight`, when it has one).
 *
 * A request is `queued` for admission from `admit` until its batch starts (at the in-flight
 * gate or in the scheduler's queue), `in flight` while its batch runs, and is done in all cases
 * when the call settles.
 */
export class PredictionService implements InferenceCore {
  private readonly opts: PredictionServiceOptions;
  private draining = false;

  constructor(opts: PredictionServiceOptions) {
    this.opts = opts;
  }

  /**
   * Shutdown has begun: readiness turns false (health checks NOT_SERVING) while requests keep
   * being served. Requests are never refused for draining: whatever a front end accepted is
   * answered (the front ends stop accepting instead).
   */
  setDraining(draining: boolean): void {
    this.draining = draining;
  }

  async predict(call: PredictCall): Promise<PredictResult> {
    const started = performance.now();
    const tenant = call.caller?.tenant;
    let version: number | undefined;
    let runtime: string | undefined;
    let residency: 'hit' | 'miss' | undefined;
    let internal = call.model;
    let rows = 0;
    let queueMicros = 0;
    let timings: BatchTimings | undefined;
    let code = 'OK';
    let ticket: AdmissionTicket | undefined;
    try {
      internal = this.opts.namespace.resolve(call.caller, call.model);
      ticket = this.opts.admission?.admit(tenant, call.arrival);
      const signatureName = call.signatureName || DEFAULT_SIGNATURE_NAME;
      // Most models are always resident: acquire them synchronously (no promise per request).
      const handle =
        this.opts.servables.loadsOnDemand?.(internal) === false
          ? this.acquire(call.model, internal, call.selector)
          : await this.acquireResident(call, internal);
      try {
        version = handle.version;
        runtime = handle.platform;
        residency = handle.residency;
        if (signatureName !== DEFAULT_SIGNATURE_NAME) {
          throw new ServingError(
            'INVALID_ARGUMENT',
            `Serving signature name: "${signatureName}" not found in signature def (available: ${DEFAULT_SIGNATURE_NAME})`,
          );
        }
        const plan = handle.plan;
        const inputs = typeof call.inputs === 'function' ? call.inputs(handle.signature, plan) : call.inputs;
        rows = validateInputs(call.model, handle.signature, inputs, this.opts.maxTensorElements);
        if (plan.checkNulStrings) rejectNulStrings(call.model, handle.platform, inputs);
        const outputNames =
          call.outputFilter === undefined || call.outputFilter.length === 0
            ? plan.outputNames
            : selectOutputs(call.model, handle.signature, call.outputFilter);
        if (call.deadline !== undefined && call.deadline <= Date.now()) {
          throw new ServingError('DEADLINE_EXCEEDED', 'Deadline exceeded before the request was queued');
        }
        const gate = this.opts.inFlight;
        const release =
          gate === undefined
            ? undefined
            : (gate.tryEnter(tenant) ?? (await gate.enter(tenant, call.signal, call.deadline)));
        let outputs: TensorMap;
        try {
          const result = await this.opts.queue.enqueue(handle.key, {
            inputs,
            outputNames,
            deadline: toQueueClock(call.deadline, this.opts.queue.clock),
            signal: call.signal,
            tenant,
            onStart: ticket?.started,
          });
          outputs = result.outputs;
          queueMicros = result.queueMicros;
          timings = result.timings;
        } finally {
          release?.();
        }
        return { model: call.model, version: handle.version, signatureName, outputs };
      } finally {
        handle.release();
      }
    } catch (err) {
      // Errors from the scheduler or a worker name the model version by its internal name.
      const e = asCallerSeesError(call.model, internal, ServingError.from(err));
      code = e.code;
      throw e;
    } finally {
      ticket?.done();
      this.opts.observe?.({
        model: internal,
        version,
        tenant,
        api: call.api ?? 'predict',
        entrypoint: call.entrypoint ?? 'unknown',
        code,
        latencyMicros: Math.round((performance.now() - started) * 1000),
        rows,
        queueMicros,
        timings,
        runtime,
        residency,
      });
    }
  }

  modelStatus(
    model: string,
    selector: VersionSelector | undefined,
    caller?: CallerIdentity,
  ): VersionStatus[] {
    const internal = this.opts.namespace.resolve(caller, model);
    return asCallerSees(model, internal, () => this.opts.servables.status(internal, selector));
  }

  modelMetadata(model: string, selector: VersionSelector, caller?: CallerIdentity): ModelMetadataResult {
    const internal = this.opts.namespace.resolve(caller, model);
    // An on-demand version that is not resident answers from its file, without being loaded
    // (`latest` with a version resident answers for that one, as predict would serve it).
    const available = this.opts.servables.availableVersions(internal);
    const offline =
      selector.kind === 'latest' && available.length > 0
        ? undefined
        : this.opts.servables.offlineSignature?.(internal, selector);
    if (offline !== undefined && !available.includes(offline.version)) {
      return {
        model,
        version: offline.version,
        platform: offline.platform,
        signatureName: DEFAULT_SIGNATURE_NAME,
        signature: offline.signature,
        availableVersions: available,
      };
    }
    const handle = this.acquire(model, internal, selector);
    try {
      const declared = this.opts.exampleSignatures?.(internal);
      return {
        model,
        version: handle.version,
        platform: handle.platform,
        signatureName: DEFAULT_SIGNATURE_NAME,
        signature: handle.signature as Signature,
        ...(declared === undefined
          ? {}
          : { extraSignatures: exampleSignatureDefs(declared, handle.signature) }),
        availableVersions: this.opts.servables.availableVersions(internal),
      };
    } finally {
      handle.release();
    }
  }

  /** The manager's name for `model` as `caller` names it (for per-model statistics). */
  internalName(caller: CallerIdentity | undefined, model: string): string {
    return this.opts.namespace.resolve(caller, model);
  }

  listModels(caller?: CallerIdentity): string[] {
    return this.opts.namespace.visibleModels(caller, this.opts.servables.modelNames());
  }

  async reloadModels(models: readonly ModelConfig[]): Promise<void> {
    if (this.opts.reload) await this.opts.reload(models);
    else await this.opts.servables.setModels(models);
  }

  modelLoadError(model: string, caller?: CallerIdentity): ServingError | undefined {
    const internal = this.opts.namespace.resolve(caller, model);
    const err = this.opts.servables.loadError(internal);
    if (err === undefined || internal === model) return err;
    return new ServingError(err.code, err.message.split(internal).join(model), { cause: err });
  }

  /** The version for a predict call: on-demand models are loaded first (cold start). */
  private async acquireResident(call: PredictCall, internal: string): Promise<ServableHandle> {
    const servables = this.opts.servables;
    if (servables.acquireResident === undefined) return this.acquire(call.model, internal, call.selector);
    try {
      return await servables.acquireResident(internal, call.selector, {
        deadline: call.deadline,
        signal: call.signal,
      });
    } catch (err) {
      if (!(err instanceof ServingError)) throw err;
      throw asCallerSeesError(call.model, internal, err);
    }
  }

  private acquire(model: string, internal: string, selector: VersionSelector): ServableHandle {
    return asCallerSees(model, internal, () => this.opts.servables.acquire(internal, selector));
  }

  live(): boolean {
    return true;
  }

  ready(): boolean {
    return !this.draining && this.opts.servables.isReady();
  }

  /**
   * Readiness of one model for health checks that name it (gRPC health with the model as
   * service): false while draining, for a model the caller cannot see, or without an
   * AVAILABLE version. Undefined when no such model exists (SERVICE_UNKNOWN). Never throws.
   */
  modelServing(model: string, caller?: CallerIdentity): boolean | undefined {
    let internal: string;
    try {
      internal = this.opts.namespace.resolve(caller, model);
    } catch {
      return undefined;
    }
    if (!this.opts.servables.modelNames().includes(internal)) return undefined;
    return !this.draining && this.opts.servables.isModelReady(internal);
  }

  modelReady(model: string, selector: VersionSelector, caller?: CallerIdentity): boolean {
    if (this.draining) return false;
    try {
      this.modelMetadata(model, selector, caller);
      return true;
    } catch {
      // An on-demand model is ready while a request would load it: residency is not readiness.
      try {
        const internal = this.opts.namespace.resolve(caller, model);
        return this.opts.servables.loadableOnDemand?.(internal, selector) ?? false;
      } catch {
        return false;
      }
    }
  }
}

/**
 * Converts an epoch deadline (front ends use Date.now()) to the scheduler clock's scale at
 * the moment of enqueueing; the two clocks drift apart over a process's life.
 */
function toQueueClock(deadline: number | undefined, clock: { now(): number }): number | undefined {
  return deadline === undefined ? undefined : deadline - Date.now() + clock.now();
}

/**
 * Runs a manager call, rewriting the internal model name in its error message into the
 * name the caller used, so a tenant's view never shows namespaces.
 */
function asCallerSees<T>(model: string, internal: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ServingError)) throw err;
    throw asCallerSeesError(model, internal, err);
  }
}

function asCallerSeesError(model: string, internal: string, err: ServingError): ServingError {
  if (internal === model || !err.message.includes(internal)) return err;
  return new ServingError(err.code, err.message.split(internal).join(model), {
    cause: err,
    retryAfterSeconds: err.retryAfterSeconds,
  });
}
