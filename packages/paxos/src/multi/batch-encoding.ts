/**
 * A slot's batch as bytes. Acceptors never look inside a slot value and the leader sends each one
 * to every acceptor and replica: encoding the batch once, at the leader, turns all those sends
 * into byte copies (instead of a structured clone of every command per destination), and only
 * the replicas decode it, once, when they apply it. Pure functions (no I/O).
 */
import { deserialize, serialize } from 'node:v8';
import type { Batch, Command, SlotValue } from './messages.js';

/** The batch as bytes (a fresh array, not a view on a shared pool). */
export function encodeBatch(commands: Command[]): Uint8Array {
  return new Uint8Array(serialize(commands));
}

/** The batch of a slot value, decoding it if it travels as bytes; null for a no-op. */
export function batchOf(value: SlotValue): Batch | null {
  if (value === null) return null;
  if (value instanceof Uint8Array) return { commands: deserialize(value) as Command[] };
  return value;
}
