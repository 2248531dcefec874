/**
 * Reply types that flow from an actor's definition: a message type declares what its handler
 * answers (`Replies<R>`), and `ask` returns that type, so asking with the wrong expectation fails
 * to compile. Types only: nothing here exists at run time.
 *
 * ```ts
 * type CounterMsg = { type: 'inc'; by: number } | ({ type: 'get' } & Replies<number>);
 * const n = await system.ask(counter, { type: 'get' });   // n: number
 * ```
 */

declare const replyMarker: unique symbol;

/**
 * Declares what an actor answers to a message: intersect the message type with it
 * (`{ type: 'get' } & Replies<number>`) or extend it (`interface Get extends Replies<number>`).
 * A phantom member: messages are built and sent without it.
 */
export interface Replies<R> {
  readonly [replyMarker]?: R;
}

type IsAny<T> = 0 extends 1 & T ? true : false;

/** The reply one member of a message union declares; `unknown` when it declares none. */
type AnswerOf<T> = T extends object ? (typeof replyMarker extends keyof T ? (T extends Replies<infer R> ? R : unknown) : unknown) : unknown;

/** The reply a member declares, or never when it declares none. */
type DeclaredAnswer<T> = T extends object ? (typeof replyMarker extends keyof T ? (T extends Replies<infer R> ? R : never) : never) : never;

/** The replies of the members of `M` that the message `X` may be. */
type MatchingAnswers<M, X> = M extends unknown ? ([X] extends [M] ? AnswerOf<M> : [M] extends [X] ? AnswerOf<M> : never) : never;

/**
 * What `ask(ref, message)` resolves with: the reply declared by the member of the target's message
 * union that `message` is, or `unknown` when it declares none (or the target's type is not known).
 */
export type ReplyTo<M, X> =
  IsAny<M> extends true ? unknown : unknown extends M ? unknown : [MatchingAnswers<M, X>] extends [never] ? unknown : MatchingAnswers<M, X>;

/** Every reply the messages `M` declare (never when none declares one). */
export type DeclaredReplies<M> = IsAny<M> extends true ? never : unknown extends M ? never : M extends unknown ? DeclaredAnswer<M> : never;

/**
 * What an actor with messages `M` may answer (`ctx.reply`): the replies its messages declare, or
 * anything when none declares one.
 */
export type ReplyOf<M> = [DeclaredReplies<M>] extends [never] ? unknown : DeclaredReplies<M>;

/** A message that declares no reply (any plain-data message without `Replies`). */
type DeclaresNoReply = (object & { readonly [replyMarker]?: undefined }) | string | number | boolean | bigint | null | undefined;

/**
 * The messages of an actor that may answer `R`: each declares `R` or declares nothing. The target
 * of an explicit `ask<R>(ref, ...)` must be a ref to such an actor, so expecting a reply other
 * than the one its messages declare fails to compile (refs are compared through their message
 * type, in both directions).
 */
export type MayAnswer<R> = Replies<R> | DeclaresNoReply;
