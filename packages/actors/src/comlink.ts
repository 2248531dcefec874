// comlink ships ESM without an `exports` map or .d.mts files; load its ESM build directly and
// type it with its own declarations.
import type * as ComlinkTypes from 'comlink';
import type { Endpoint } from 'comlink';
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
