/** Options of the network transport (`ActorSystem.start({ mode: 'embedded', network })`). */
import { InvalidOptionError } from '../errors.js';

/** A member of the cluster and where it listens. */
export interface NetPeer {
  /** Its node number (1..1023 for members; clients take numbers above). */
  node: number;
  host: string;
  port: number;
}

/** TLS 1.3 with mutual authentication: every node and client presents a certificate of the cluster's CA. */
export interface NetTlsOptions {
  /** The cluster's CA certificate (PEM). Peers whose certificate it did not sign are refused. */
  ca: string | Buffer;
  /** This node's (or client's) certificate (PEM), signed by `ca`. */
  cert: string | Buffer;
  /** Its private key (PEM). */
  key: string | Buffer;
}

export interface NetworkOptions {
  /** This process's node number: 1..1023 for a member of the cluster, 1024..65534 for a client. */
  node: number;
  /** Connections from another cluster (a different id) are refused. */
  clusterId: string;
  /**
   * What runs on the cluster (for a replicated state machine: its protocol, name and number of
   * members): a system whose layout differs is refused in the handshake, like one whose codecs do.
   */
  layout?: string;
  /** Where this node accepts connections (members). Absent: a client, which only dials. */
  listen?: { host: string; port: number };
  /** The other members. A member dials those with a higher node number; a client dials all. */
  peers: NetPeer[];
  /**
   * Mutual TLS (see {@link NetTlsOptions}), or `'insecure'`: plain TCP, anyone who can reach the
   * port may speak (only for a closed test network; never across machines).
   */
  tls: NetTlsOptions | 'insecure';
  /** A frame larger than this closes the connection that carried it. Default 64 MiB. */
  maxFrameBytes?: number;
  /** A batch for one peer is posted once it holds this many bytes, even within a turn. Default 256 KiB. */
  maxBatchBytes?: number;
  /**
   * Bytes queued for one peer (unsent, or sent but not yet taken by the kernel); past it, further
   * messages to that peer are dropped as dead letters (a slow or stuck peer cannot stall the
   * others: the protocols resend). Default 32 MiB.
   */
  maxQueuedBytesPerPeer?: number;
  /** Bytes queued for all peers together past which the node stops running turns until they drain (back-pressure). Default 128 MiB. */
  maxQueuedBytes?: number;
  /** A connection that has not finished its handshake in this time is closed. Default 5000. */
  handshakeTimeoutMs?: number;
  /** First delay before dialing a lost peer again; doubles (with jitter) up to {@link maxReconnectDelayMs}. Default 50. */
  minReconnectDelayMs?: number;
  /** Longest delay between dials of a lost peer. Default 2000. */
  maxReconnectDelayMs?: number;
}

export type NetLimits = Required<
  Pick<
    NetworkOptions,
    'maxFrameBytes' | 'maxBatchBytes' | 'maxQueuedBytesPerPeer' | 'maxQueuedBytes' | 'handshakeTimeoutMs' | 'minReconnectDelayMs' | 'maxReconnectDelayMs'
  >
>;

export const defaultNetLimits: NetLimits = {
  maxFrameBytes: 64 << 20,
  maxBatchBytes: 256 << 10,
  maxQueuedBytesPerPeer: 32 << 20,
  maxQueuedBytes: 128 << 20,
  handshakeTimeoutMs: 5_000,
  minReconnectDelayMs: 50,
  maxReconnectDelayMs: 2_000,
};

/** Highest member node number; clients use the numbers above it. */
export const MAX_MEMBER_NODE = 1023;
/** Highest node number at all (the envelope record has 16 bits, 0xffff means "no sender"). */
export const MAX_NODE = 0xfffe;

/** Checks network options, naming the option and the rule. */
export function checkNetworkOptions(o: NetworkOptions): NetLimits {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionError('network must be an object');
  if (!(Number.isInteger(o.node) && o.node >= 1 && o.node <= MAX_NODE))
    throw new InvalidOptionError(`network.node must be an integer in 1..${MAX_NODE}, got ${String(o.node)}`);
  if (typeof o.clusterId !== 'string' || o.clusterId.length === 0 || o.clusterId.length > 128) {
    throw new InvalidOptionError('network.clusterId must be a non-empty string of at most 128 characters');
  }
  if (o.listen && o.node > MAX_MEMBER_NODE)
    throw new InvalidOptionError(`a node that listens is a member: network.node must be in 1..${MAX_MEMBER_NODE}, got ${o.node}`);
  if (o.listen && !(typeof o.listen.host === 'string' && Number.isInteger(o.listen.port) && o.listen.port >= 0 && o.listen.port <= 65535)) {
    throw new InvalidOptionError('network.listen must be { host, port } with a port in 0..65535');
  }
  if (!Array.isArray(o.peers)) throw new InvalidOptionError('network.peers must be an array of { node, host, port }');
  const seen = new Set<number>();
  for (const p of o.peers) {
    if (!(Number.isInteger(p?.node) && p.node >= 1 && p.node <= MAX_MEMBER_NODE))
      throw new InvalidOptionError(`network.peers: node numbers of members are 1..${MAX_MEMBER_NODE}, got ${String(p?.node)}`);
    if (p.node === o.node) throw new InvalidOptionError(`network.peers lists this node itself (${p.node})`);
    if (seen.has(p.node)) throw new InvalidOptionError(`network.peers lists node ${p.node} twice`);
    seen.add(p.node);
    if (typeof p.host !== 'string' || !(Number.isInteger(p.port) && p.port > 0 && p.port <= 65535)) {
      throw new InvalidOptionError(`network.peers: node ${p.node} needs a host and a port in 1..65535`);
    }
  }
  if (o.tls !== 'insecure') {
    if (typeof o.tls !== 'object' || o.tls === null || !o.tls.ca || !o.tls.cert || !o.tls.key) {
      throw new InvalidOptionError("network.tls must be { ca, cert, key } (PEM; see `synod certs`), or 'insecure' for plain TCP on a closed test network");
    }
  }
  const limits: NetLimits = { ...defaultNetLimits };
  for (const k of Object.keys(defaultNetLimits) as (keyof NetLimits)[]) {
    const v = o[k];
    if (v === undefined) continue;
    if (!(Number.isInteger(v) && v > 0)) throw new InvalidOptionError(`network.${k} must be a positive integer, got ${String(v)}`);
    limits[k] = v;
  }
  if (limits.maxBatchBytes + 64 > limits.maxFrameBytes) throw new InvalidOptionError('network.maxBatchBytes must be below maxFrameBytes');
  if (limits.minReconnectDelayMs > limits.maxReconnectDelayMs) throw new InvalidOptionError('network.minReconnectDelayMs must not exceed maxReconnectDelayMs');
  return limits;
}
