/**
 * `@synod/errors`: the root of every error Synod raises ({@link SynodError}, with a stable
 * `code`), and the registry that lets errors cross threads as instances of their own class.
 *
 * @module @synod/errors
 */
import { registerErrors } from './registry.js';
import { SynodError } from './synod-error.js';

export { SynodError, isSynodError } from './synod-error.js';
export { registerErrors, errorClass, serializeError, deserializeError, type SerializedError, type ErrorClass } from './registry.js';

registerErrors({ SynodError });
