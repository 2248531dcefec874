/** The built-in models, by name (as `synod check --model` takes them). */
import type { AnyModel } from '../model.js';
import { kvModel } from './kv.js';
import { casRegisterModel, registerModel } from './register.js';
import { replicatedMapModel } from './replicated-map.js';

export const builtinModels: Readonly<Record<string, AnyModel>> = {
  register: registerModel,
  'cas-register': casRegisterModel,
  kv: kvModel,
  'replicated-map': replicatedMapModel,
};
