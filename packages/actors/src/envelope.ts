import type { ActorRef } from './ref.js';

/** The address (actor id, on any node) of asks and sends made from outside any actor. */
export const SYSTEM_ID = 0;

/** What an envelope carries. */
export const enum Kind {
  /** A plain message (`send`, or a timer). */
  Send = 0,
  /** A message that expects a reply (`ask`); `corr` identifies the pending ask. */
  Ask = 1,
  /** The answer to an ask; goes to the asker's pending promise, not to its mailbox. */
  Reply = 2,
  /**
   * A send from outside that waits for room in a full mailbox instead of being dropped; the
   * host answers with a Reply (`true` when admitted, `false` when even the wait list is full).
   */
  Enqueue = 3,
}

/** A message on its way: the unit the mailboxes, transports and the simulator move. */
export class Envelope {
  /** Durability ticket this envelope waits for before it may leave (persist before send). */
  gate = 0;
  constructor(
    /** Target actor id on `toNode`. */
    public to: number,
    public toNode: number,
    /** The sending actor, or null when sent from outside the system. */
    public from: ActorRef<any> | null,
    public kind: Kind,
    /** Ask correlation id (0 for plain sends). */
    public corr: number,
    public msg: unknown,
  ) {}
}
