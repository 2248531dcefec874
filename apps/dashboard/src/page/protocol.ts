/**
 * What the dashboard server sends the page (Server-Sent Events) and what the page asks of it
 * (POST /api/...). Types only: shared by the server (Node) and the page (browser).
 */

/** The roles on a replica node: Multi-Paxos's acceptor, leader candidate and replica, or Raft's node and replica. */
export type Role = 'acceptor' | 'leader' | 'raft' | 'replica';

/** A ballot as shown: `round.proposer`, or `0` for none. */
export type BallotText = string;

export interface AcceptorStateView {
  promised: BallotText;
  /** Slots holding an accepted value (not yet truncated). */
  acceptedSlots: number;
  /** The highest slot accepted, and the ballot it was accepted in. */
  highestSlot: number | null;
  highestBallot: BallotText | null;
  truncatedBelow: number;
}

export interface LeaderStateView {
  status: 'leader' | 'candidate' | 'follower';
  ballot: BallotText;
  /** Slots below are chosen. */
  commitUpTo: number;
  nextSlot: number;
  /** Slots in phase 2 now. */
  inflight: number;
  /** Client commands waiting for a slot. */
  pending: number;
  /** The replica node it follows (itself when leading), or null. */
  following: number | null;
}

/** A Raft node (Raft's election, log and replication in one actor). */
export interface RaftStateView {
  status: 'leader' | 'candidate' | 'pre-candidate' | 'follower';
  term: number;
  /** The node it follows (itself when leading), or null. */
  leader: number | null;
  /** Entries up to here are committed (entry i is slot i - 1). */
  commitIndex: number;
  lastIndex: number;
  /** The log starts after here (compacted up to the replica's snapshot). */
  snapIndex: number;
  /** Client commands waiting for an entry. */
  pending: number;
}

export interface ReplicaStateView {
  /** Slots below are applied to the map. */
  appliedUpTo: number;
  /** Slots below are known to be chosen (it fetches those it has not received). */
  knownUpTo: number;
  /** Keys of the map (absent when the source cannot count them cheaply: a member in another process). */
  keys?: number;
  /** Digest of the state at `appliedUpTo` (equal on replicas that agree), when the source has it. */
  digest?: number;
  sessions: number;
  snapshotAt: number;
}

export interface ActorView {
  role: Role;
  name: string;
  /** `running`, or why not (`down`: its worker is gone, restart pending). */
  status: string;
  /** Restarts of this actor so far. */
  incarnation: number;
  mailbox: number;
  messagesPerSecond: number;
  acceptor?: AcceptorStateView;
  leader?: LeaderStateView;
  raft?: RaftStateView;
  replica?: ReplicaStateView;
}

/** A replica node that is a process of its own (a member of a networked cluster): what its transport says. */
export interface ProcessView {
  /** Where it listens, `host:port`. */
  address: string;
  /** The other members it has a connection with now (node numbers). */
  peers: number[];
  /** Clients connected to it now. */
  clients: number;
  framesSent: number;
  bytesSent: number;
  framesReceived: number;
  bytesReceived: number;
  /** The faults injected into its traffic, in words; empty when none. */
  faults: string;
  /** Whether it takes partition and heal from the dashboard (`synod node --allow-remote-faults`). */
  remoteFaults: boolean;
  /** Why its last status was not read (it did not answer in time, ...), or null. */
  problem: string | null;
}

/** One replica node: a worker thread and its actors, or a member process. */
export interface NodeView {
  index: number;
  /** The worker's node id in the actor system (a member process: its node number). */
  worker: number;
  /** What to call it; default `Replica node <index>`. */
  label?: string;
  /** Present when the node is a process of its own: it cannot be killed from the page. */
  process?: ProcessView;
  /** Every actor running. */
  up: boolean;
  isolated: boolean;
  /** Actor restarts on this node so far. */
  restarts: number;
  actors: ActorView[];
}

/** Throughput and latency over one span (one chart point). */
export interface RatePoint {
  atMs: number;
  writesPerSecond: number;
  readsPerSecond: number;
  failedPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** The whole picture, sent every few hundred ms. */
export interface ClusterView {
  atMs: number;
  /** E.g. "5 replicas · file storage · 8 clients". */
  title: string;
  nodes: NodeView[];
  /** The replica node that leads now (highest ballot, or term, among those leading), or null. */
  leader: number | null;
  leaderChanges: number;
  restarts: number;
  deadLetters: { total: number; byReason: Record<string, number> };
  totals: { writes: number; reads: number; failed: number; unknown: number };
  /** One point per second, oldest first. */
  rates: RatePoint[];
  /** Captions where the source is not the in-process demo (a cluster of processes); absent: the demo's. */
  captions?: {
    /** The heading of the node cards, and the note beside it. */
    nodes: string;
    nodesNote: string;
    /** Shown instead of the sequence diagram while no message window comes. */
    messages: string;
  };
}

/** Something that happened: a restart, a crash, a new leader, a fault, dead letters. */
export interface ClusterEvent {
  atMs: number;
  kind: 'worker-exited' | 'crashed' | 'restarted' | 'leader' | 'fault' | 'dead-letters' | 'partition' | 'heal' | 'error' | 'member-down' | 'member-up';
  text: string;
  /** The replica node concerned, if one. */
  index?: number;
}

/** One message of a traced window, with actor names resolved. */
export interface TracedMessageView {
  atMs: number;
  /** Sender's name; `client` for the application's calls. */
  from: string;
  to: string;
  type: string;
  kind: 'send' | 'ask' | 'reply' | 'enqueue';
}

/** Every message the cluster sent during one short window. */
export interface MessageWindowView {
  startMs: number;
  windowMs: number;
  messages: TracedMessageView[];
  /** Messages beyond the per-host bound: counted, not recorded. */
  omitted: number;
}

/** The answer to an action (POST /api/kill, /api/partition, /api/heal). */
export interface ActionResult {
  ok: boolean;
  message: string;
}

/** Event names on the SSE stream and their payloads. */
export interface StreamEvents {
  cluster: ClusterView;
  event: ClusterEvent;
  messages: MessageWindowView;
}
