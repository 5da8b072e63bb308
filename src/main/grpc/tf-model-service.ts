import type * as grpc from '@grpc/grpc-js';
import type { CallerIdentity } from '../../core/caller-identity.js';
import type { CancelSignal } from '../../core/cancel-signal.js';
import { safeDelay } from '../../core/clock.js';
import { ERROR_CODES, MAX_CLIENT_MESSAGE, ServingError } from '../../core/errors.js';
import type { ModelConfig } from '../config/model-config.js';
import {
  type ModelServerConfigObject,
  type ModelSettings,
  modelServerConfigToModels,
} from '../config/model-server-objects.js';
import type { InferenceCore } from '../serving/inference-core.js';
import { type HandlerEnv, unary } from './grpc-call.js';
import { type ModelSpecObject, modelNameOf, selectorOf } from './model-spec.js';

/** How HandleReloadConfigRequest completes a ModelServerConfig; see modelServerConfigToModels. */
export interface ReloadOptions {
  /** Settings of a model the proto cannot carry (device, batching, ...), by model name. */
  readonly modelSettings?: (name: string) => ModelSettings;
  /** Directory relative base paths resolve against. */
  readonly baseDir?: string;
}

/** Handlers of `tensorflow.serving.ModelService`. */
export function modelServiceHandlers(
  core: InferenceCore,
  env: HandlerEnv,
  reload: ReloadOptions,
): grpc.UntypedServiceImplementation {
  return {
    GetModelStatus: unary<{ model_spec?: ModelSpecObject | null }, unknown>(
      'GetModelStatus',
      env,
      (req, ctx) => {
        const model = modelNameOf(req.model_spec);
        const statuses = core.modelStatus(model, selectorOf(req.model_spec), ctx.caller);
        return {
          model_version_status: statuses.map((s) => ({
            version: String(s.version),
            state: s.state,
            status: {
              error_code: s.errorCode in ERROR_CODES ? s.errorCode : 'UNKNOWN',
              error_message: s.errorMessage,
            },
          })),
        };
      },
    ),
    HandleReloadConfigRequest: unary<{ config?: ModelServerConfigObject | null }, unknown>(
      'HandleReloadConfigRequest',
      env,
      async (req, ctx) => {
        if (ctx.caller !== undefined && !ctx.caller.admin) {
          throw new ServingError('PERMISSION_DENIED', 'Reloading the model config needs an admin identity');
        }
        const models = modelServerConfigToModels(req.config, reload.modelSettings, reload.baseDir);
        try {
          const settled = await withinDeadline(core.reloadModels(models), ctx.deadline, ctx.signal);
          // The call's deadline comes first: answer with the state so far; the reload goes on.
          if (!settled) return { status: unsettledStatus(core, models, ctx.caller) };
        } catch (err) {
          // A refused reload (a label on a version that is not available) is the answer's status.
          const e = ServingError.from(err);
          if (e.code !== 'FAILED_PRECONDITION') throw e;
          return { status: { error_code: e.code, error_message: e.message } };
        }
        return { status: reloadStatus(core, models, ctx.caller) };
      },
    ),
  };
}

/**
 * The ReloadConfigResponse status once a reload has settled: OK when every model of the new
 * list is served as configured, else the first failing model's load error (NOT_FOUND for a
 * missing base path, the load error of a version that failed, FAILED_PRECONDITION for a
 * label on a version that is not AVAILABLE), as TF Serving answers. Every failure is listed
 * in the message, each naming its model.
 */
function reloadStatus(
  core: InferenceCore,
  models: readonly ModelConfig[],
  caller: CallerIdentity | undefined,
): { error_code: string; error_message: string } {
  const failures: { name: string; err: ServingError }[] = [];
  for (const m of models) {
    const err = core.modelLoadError(m.name, caller);
    if (err !== undefined) failures.push({ name: m.name, err });
  }
  if (failures.length === 0) return { error_code: 'OK', error_message: '' };
  const message = failures
    .map(({ name, err }) => (err.message.includes(name) ? err.message : `Model ${name}: ${err.message}`))
    .join('; ');
  return { error_code: failures[0].err.code, error_message: message.slice(0, MAX_CLIENT_MESSAGE) };
}

/** Time kept before a call's deadline to send the answer. */
const ANSWER_MARGIN_MS = 200;

/**
 * Resolves true when `work` settles first (rejecting as it does), false when the call's
 * deadline (less ANSWER_MARGIN_MS, or a tenth of the time left when that is shorter) or its
 * cancellation comes first. Without a deadline it simply waits for `work`.
 */
async function withinDeadline(
  work: Promise<void>,
  deadline: number | undefined,
  signal: CancelSignal,
): Promise<boolean> {
  if (deadline === undefined) {
    await work;
    return true;
  }
  const left = deadline - Date.now();
  const wait = Math.max(0, left - Math.min(ANSWER_MARGIN_MS, left / 10));
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const cut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), safeDelay(wait));
    onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // A reload that fails after the answer was sent is the server's to log, not an unhandled rejection.
  work.catch(() => {});
  try {
    return await Promise.race([work.then(() => true as const), cut]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The answer of a reload still going on at the call's deadline: UNAVAILABLE ("retry the status
 * later"), naming every model not yet served as configured with its versions' states and last
 * errors (a version retrying shows its last load error).
 */
function unsettledStatus(
  core: InferenceCore,
  models: readonly ModelConfig[],
  caller: CallerIdentity | undefined,
): { error_code: string; error_message: string } {
  const pending: string[] = [];
  for (const m of models) {
    let states: string;
    try {
      const statuses = core.modelStatus(m.name, undefined, caller);
      if (statuses.some((v) => v.state === 'AVAILABLE') && core.modelLoadError(m.name, caller) === undefined)
        continue;
      states = statuses
        .map((v) => `version ${v.version} ${v.state}${v.errorMessage ? ` (${v.errorMessage})` : ''}`)
        .join(', ');
    } catch (err) {
      states = ServingError.from(err).message;
    }
    pending.push(`${m.name}: ${states}`);
  }
  const message = `The reload is still in progress at the call's deadline; not yet served as configured: ${pending.join('; ')}`;
  return { error_code: 'UNAVAILABLE', error_message: message.slice(0, MAX_CLIENT_MESSAGE) };
}
