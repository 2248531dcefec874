/**
 * The handshake of a network connection: the dialer says who it is (cluster, node, protocol
 * version, the wire forms it speaks), the listener answers welcome or refuses with a reason.
 * Nothing else is read from a connection before it is welcomed.
 */
import { FrameError } from './frames.js';

/** Bumped whenever frames or envelope records change meaning. */
export const NET_PROTOCOL_VERSION = 1;
const MAGIC = 'synod';

export interface Hello {
  magic: typeof MAGIC;
  version: number;
  clusterId: string;
  /** The dialer's node number. */
  node: number;
  /** `node`: a member of the cluster (listed among the peers); `client`: anyone else with a certificate. */
  role: 'node' | 'client';
  /** A digest of the message codecs, in tag order: both ends must encode alike. */
  codecs: string;
}

export interface Welcome {
  node: number;
  version: number;
}

export function makeHello(clusterId: string, node: number, role: Hello['role'], codecs: string): Hello {
  return { magic: MAGIC, version: NET_PROTOCOL_VERSION, clusterId, node, role, codecs };
}

/** Parses a JSON frame body, refusing anything that is not a plain object. */
export function parseJsonFrame(body: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    throw new FrameError(`the ${what} frame is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FrameError(`the ${what} frame is not an object`);
  return v as Record<string, unknown>;
}

/**
 * Why a hello is refused, or null when it is accepted. `isPeer(node)`: the node is a listed
 * member of this cluster (only they may speak as `node`; clients must use other numbers).
 */
export function checkHello(
  h: Record<string, unknown>,
  mine: { clusterId: string; node: number; codecs: string },
  isPeer: (node: number) => boolean,
  maxClientNode: number,
): string | null {
  if (h.magic !== MAGIC) return 'not a Synod connection (no magic in the hello)';
  if (h.version !== NET_PROTOCOL_VERSION)
    return `protocol version ${String(h.version)} is not spoken here (this node speaks ${NET_PROTOCOL_VERSION}): run the same Synod version everywhere`;
  if (h.clusterId !== mine.clusterId) return `wrong cluster id ${JSON.stringify(h.clusterId)} (this node is in cluster ${JSON.stringify(mine.clusterId)})`;
  const node = h.node;
  if (!(Number.isInteger(node) && (node as number) >= 1 && (node as number) <= maxClientNode))
    return `node number ${String(node)} is out of range 1..${maxClientNode}`;
  if (node === mine.node) return `node number ${String(node)} is this node's own`;
  if (h.role === 'node' && !isPeer(node as number)) return `node ${String(node)} is not a member of this cluster (not among this node's peers)`;
  if (h.role === 'client' && isPeer(node as number)) return `a client may not use node number ${String(node)}: it is a member's`;
  if (h.role !== 'node' && h.role !== 'client') return `unknown role ${JSON.stringify(h.role)}`;
  if (h.codecs !== mine.codecs)
    return "the message codecs or the cluster's layout (protocol, name, number of members) differ from this node's: run the same Synod version and cluster settings everywhere";
  return null;
}
