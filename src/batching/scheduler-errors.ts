import { ServingError } from '../core/errors.js';

/**
 * The errors the batch scheduler rejects requests with, in one place so their codes and
 * client-facing messages (TF Serving's wording where it has one) stay consistent.
 */
export const schedulerErrors = {
  queueFull: () =>
    new ServingError('UNAVAILABLE', 'The batch scheduling queue to which this task was submitted is full'),
  tooLarge: (rows: number, max: number) =>
    new ServingError('INVALID_ARGUMENT', `Task size ${rows} is larger than maximum input batch size ${max}`),
  deadlineExceeded: () =>
    new ServingError('DEADLINE_EXCEEDED', 'Request timeout expired while waiting in the batch queue'),
  cancelled: () => new ServingError('CANCELLED', 'Request cancelled while waiting in the batch queue'),
  closed: () => new ServingError('UNAVAILABLE', 'The batch scheduler is shutting down'),
  draining: (key: string) => new ServingError('UNAVAILABLE', `Model ${key} is being unloaded`),
  unknownModel: (key: string) => new ServingError('NOT_FOUND', `No batch queue for model ${key}`),
  duplicateModel: (key: string) =>
    new ServingError('ALREADY_EXISTS', `A batch queue for model ${key} exists`),
};
