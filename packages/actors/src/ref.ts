/**
 * The address of an actor. A ref is plain data: it can travel inside messages, be stored in
 * state and be compared with {@link sameRef}. A restarted actor keeps its ref.
 *
 * `node` is the host (0 is the main thread, 1.. are worker slots) and `id` is unique on that
 * node. The message type parameter exists only for the compiler.
 */
export interface ActorRef<M = unknown> {
  readonly name: string;
  readonly node: number;
  readonly id: number;
  /**
   * Phantom member: keeps refs of unrelated message types apart, while a ref still fits where
   * a wider one is expected (method parameters are bivariant). Never present at run time.
   */
  readonly __message?: { bivariant(message: M): void }['bivariant'];
}

/** True when both refs address the same actor. */
export function sameRef(a: ActorRef<any> | undefined | null, b: ActorRef<any> | undefined | null): boolean {
  return !!a && !!b && a.node === b.node && a.id === b.id;
}

/** A number unique per actor in the system: usable as a Map key. */
export function refKey(node: number, id: number): number {
  return node * 0x1_0000_0000 + id;
}

export function makeRef<M>(name: string, node: number, id: number): ActorRef<M> {
  return { name, node, id };
}

/** Asserts that a value received from elsewhere is shaped like a ref. */
export function isActorRef(value: unknown): value is ActorRef<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === 'string' && Number.isInteger(v.node) && Number.isInteger(v.id);
}

export function describeRef(ref: ActorRef<any>): string {
  return `"${ref.name}" (#${ref.node}.${ref.id})`;
}
