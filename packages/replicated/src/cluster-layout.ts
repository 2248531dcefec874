/**
 * Where a cluster's actors are when its members are processes: node i of the cluster is the
 * process with node number `i + 1`, and on every member the same start sequence gives its actors
 * the same ids (the acceptor, the replica, the leader, ... in the order the protocol starts them).
 * So each member starts only its own actors and knows every other member's by computation, and a
 * client knows them all without asking. `layoutHost` is the ClusterHost that does this for
 * `startCluster`: it starts the actors of one node (or none, for a client) and names the rest.
 *
 * After the cluster's actors every member starts one more actor, its status actor
 * (member-status.ts): it takes the next id on that member's node, so its ref is computed the same
 * way ({@link memberStatusRef}). Anything a member starts later comes after it, and nothing a
 * member starts may come before the cluster's actors, or every computed id would move.
 */
import type { ActorRef, Supervisor, SupervisorSpec } from '@synod/actors';
import type { ClusterHost } from './cluster.js';

/** The node number of member `i` (0-based) of a networked cluster. */
export function memberNode(i: number): number {
  return i + 1;
}

/** The first id an embedded host gives: the first actor a member starts. */
const FIRST_ACTOR_ID = 1;

/** A laid-out cluster: which id the next actor started on a member's node takes. */
export interface ClusterLayout {
  /** The id the next actor started on member `i`'s node (0-based) takes. */
  nextId(i: number): number;
}

/** The name of member `i`'s status actor in a cluster named `name`. */
export function memberStatusName(name: string, i: number): string {
  return `${name}-status-${i}`;
}

/**
 * The ref of member `i`'s status actor (0-based; see member-status.ts), computed from the layout
 * once the cluster's actors are laid out: `startMember` starts it right after them, so it takes the
 * next id on that member's node. A member checks that its own status actor got this ref.
 */
export function memberStatusRef<M>(layout: ClusterLayout, i: number, name: string): ActorRef<M> {
  return { name: memberStatusName(name, i), node: memberNode(i), id: layout.nextId(i) };
}

/**
 * A ClusterHost that starts, through `real`, only the actors of member `own` (null: none, for a
 * client) and hands back computed refs for the others. Sends to actors of other members are
 * skipped while the cluster starts (their own process wires them); afterwards they go out.
 */
export function layoutHost(real: ClusterHost, own: number | null, nodeCount: number): ClusterHost & ClusterLayout & { started(): void } {
  let starting = true;
  const ownNode = own === null ? -1 : memberNode(own);
  // By node index: a host numbers its actors in start order, whichever supervisor starts them.
  const nextId = new Map<number, number>();
  return {
    mode: 'embedded',
    started() {
      starting = false;
    },
    nextId(i: number): number {
      if (!(Number.isInteger(i) && i >= 0 && i < nodeCount)) throw new Error(`cluster layout: no member ${String(i)} (0..${nodeCount - 1})`);
      return nextId.get(i) ?? FIRST_ACTOR_ID;
    },
    async supervise(spec: SupervisorSpec): Promise<Supervisor> {
      const sup = own === null ? null : await real.supervise(spec);
      const indexOf = (key: string | undefined): number => {
        const m = key === undefined ? null : /-(\d+)$/.exec(key);
        const i = m ? Number(m[1]) : -1;
        if (!(i >= 0 && i < nodeCount)) throw new Error(`cluster layout: actor placed on "${String(key)}", which is no node of the cluster`);
        return i;
      };
      const startChild = async (child: { worker?: string; name: string }): Promise<ActorRef<any>> => {
        const i = indexOf(child.worker);
        const id = nextId.get(i) ?? FIRST_ACTOR_ID;
        nextId.set(i, id + 1);
        if (i !== own) return { name: child.name, node: memberNode(i), id };
        const ref = (await sup!.startChild(child as never)) as ActorRef<any>;
        if (ref.node !== ownNode || ref.id !== id) {
          throw new Error(
            `cluster layout: "${child.name}" started as #${ref.node}.${ref.id}, not #${ownNode}.${id} as every other member computes; start a member's actors before anything else on its system`,
          );
        }
        return ref;
      };
      const setChildArgs = (ref: ActorRef<any>, args: unknown): void => {
        if (ref.node === ownNode) sup!.setChildArgs(ref, args);
      };
      if (sup === null) {
        return { name: spec.name, startChild, setChildArgs, shutdown: async () => {} } as unknown as Supervisor;
      }
      return new Proxy(sup, {
        get(target, p, receiver) {
          if (p === 'startChild') return startChild;
          if (p === 'setChildArgs') return setChildArgs;
          const v = Reflect.get(target, p, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    },
    send<M>(to: ActorRef<M>, message: M): void {
      if (starting && to.node !== ownNode) return;
      real.send(to, message);
    },
  };
}
