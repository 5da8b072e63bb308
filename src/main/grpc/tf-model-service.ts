import type * as grpc from '@grpc/grpc-js';
import type { CallerIdentity } from '../../core/caller-identity.js';
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
          await core.reloadModels(models);
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
