// comlink ships ESM without an `exports` map or .d.mts files; load its ESM build directly and
// type it with its own declarations.
import type * as ComlinkTypes from 'comlink';
import type { Endpoint } from 'comlink';
import { deserializeError, serializeError, type SerializedError } from '@synod/errors';
// @ts-ignore -- the ESM build has no declaration file of its own.
import * as comlinkEsm from 'comlink/dist/esm/comlink.mjs';
// @ts-ignore -- idem.
import nodeEndpointEsm from 'comlink/dist/esm/node-adapter.mjs';

export const Comlink = comlinkEsm as typeof ComlinkTypes;
export type Remote<T> = ComlinkTypes.Remote<T>;

interface NodeLikePort {
  postMessage(message: any, transfer?: any[]): void;
  on(type: string, listener: (...args: any[]) => void): unknown;
  off(type: string, listener: (...args: any[]) => void): unknown;
  start?: () => void;
}

export const nodeEndpoint = nodeEndpointEsm as (port: NodeLikePort) => Endpoint;

// Errors thrown by a control-plane call in a worker reach the main thread as instances of their
// own class, with their code and fields (comlink's own handler keeps only name, message and stack
// on a plain Error). Installed in both threads: this module is what each imports comlink through.
const original = Comlink.transferHandlers.get('throw')!;
Comlink.transferHandlers.set('throw', {
  canHandle: original.canHandle,
  serialize(thrown: unknown) {
    const value = (thrown as { value: unknown }).value;
    return [{ error: serializeError(value) }, []];
  },
  deserialize(data: unknown) {
    throw deserializeError((data as { error: SerializedError }).error);
  },
} as ComlinkTypes.TransferHandler<unknown, unknown>);
