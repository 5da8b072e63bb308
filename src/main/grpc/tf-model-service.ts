import type * as grpc from '@grpc/grpc-js';
import { ERROR_CODES, ServingError } from '../../core/errors.js';
import type { InferenceCore } from '../inference-core.js';
import { type HandlerEnv, unary } from './grpc-call.js';
import {
  type ModelServerConfigObject,
  type ModelSettings,
  modelServerConfigToModels,
} from './model-server-config.js';
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
        await core.reloadModels(models);
        return { status: { error_code: 'OK', error_message: '' } };
      },
    ),
  };
}
