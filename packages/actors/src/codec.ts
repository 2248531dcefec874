import { MessageEncodingError } from './errors.js';
import type { WireReader, WireWriter } from './wire.js';

/**
 * A binary encoding for one message type (by its `type` field). Hot message types with a codec
 * cross threads as bytes in a batch buffer instead of by structured clone, which is most of
 * the transport's speed. Messages without a codec still work (structured clone).
 */
export interface MessageCodec<T extends { type: string } = any> {
  readonly type: T['type'];
  /**
   * Whether this message can be encoded exactly; when false it travels by structured clone
   * instead (e.g. a value of a type the codec does not know). Default: always.
   */
  canEncode?(message: T): boolean;
  encode(message: T, w: WireWriter): void;
  decode(r: WireReader): T;
}

/** A group of codecs exported from one module, so every worker can load the same set. */
export interface CodecSet {
  readonly kind: 'synod.codecs';
  /** The module exporting this set: pass `import.meta.url`. */
  readonly module: string;
  readonly codecs: readonly MessageCodec[];
}

/**
 * Declares codecs for some message types. Export the result and list it in the system's
 * `codecs` option (or in the `codecs` of an actor definition):
 *
 * ```ts
 * export const wire = defineCodecs(import.meta.url, [
 *   { type: 'ping', encode: (m, w) => w.u32(m.seq), decode: (r) => ({ type: 'ping', seq: r.u32() }) },
 * ]);
 * ```
 */
export function defineCodecs(module: string, codecs: readonly MessageCodec[]): CodecSet {
  const seen = new Set<string>();
  for (const c of codecs) {
    if (typeof c.type !== 'string' || typeof c.encode !== 'function' || typeof c.decode !== 'function') {
      throw new TypeError('defineCodecs: every codec needs `type`, `encode` and `decode`');
    }
    if (seen.has(c.type)) throw new TypeError(`defineCodecs: two codecs for message type "${c.type}"`);
    seen.add(c.type);
  }
  return Object.freeze({ kind: 'synod.codecs' as const, module, codecs: Object.freeze([...codecs]) });
}

export function isCodecSet(v: unknown): v is CodecSet {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'synod.codecs';
}

/** Tag 0 means "structured clone"; codec tags start at 1. */
export const CLONE_TAG = 0;
/** "The same message object as the previous record" (one object sent to several actors of a node). */
export const REPEAT_TAG = 0xffff;
export const MAX_TAG = 0xfffe;

/**
 * Tags for codecs, the same on every node: sets are registered in the same order everywhere,
 * each at a base tag chosen by the main thread. Decoding works as soon as a set is registered;
 * encoding only once every node can decode it (`activate`).
 */
export class CodecRegistry {
  private readonly byTag: (MessageCodec | undefined)[] = [];
  private readonly active = new Map<string, number>();
  /** Active codecs that refuse some messages (see `canEncode`), by tag. */
  private readonly picky: (MessageCodec | undefined)[] = [];
  private readonly sets = new Map<string, { base: number; set: CodecSet }>();

  register(set: CodecSet, baseTag: number): void {
    const existing = this.sets.get(set.module);
    if (existing) {
      if (existing.base !== baseTag) throw new MessageEncodingError(`codec set ${set.module} registered twice with different tags`);
      return;
    }
    if (baseTag < 1 || baseTag + set.codecs.length > MAX_TAG) throw new MessageEncodingError(`codec tags out of range for ${set.module}`);
    set.codecs.forEach((c, i) => {
      if (this.byTag[baseTag + i]) throw new MessageEncodingError(`codec tag ${baseTag + i} is taken (registering ${set.module})`);
      this.byTag[baseTag + i] = c;
    });
    this.sets.set(set.module, { base: baseTag, set });
  }

  /** Start encoding this set's types (every node can decode them now). */
  activate(module: string): void {
    const entry = this.sets.get(module);
    if (!entry) throw new MessageEncodingError(`codec set ${module} is not registered`);
    entry.set.codecs.forEach((c, i) => {
      const other = this.active.get(c.type);
      if (other !== undefined && other !== entry.base + i) {
        throw new MessageEncodingError(`message type "${c.type}" has codecs in two sets; each type may have one`);
      }
      this.active.set(c.type, entry.base + i);
      if (c.canEncode) this.picky[entry.base + i] = c;
    });
  }

  /** The tag to encode a message with, or CLONE_TAG. */
  tagFor(message: unknown): number {
    if (this.active.size === 0 || typeof message !== 'object' || message === null) return CLONE_TAG;
    const type = (message as { type?: unknown }).type;
    if (typeof type !== 'string') return CLONE_TAG;
    const tag = this.active.get(type);
    if (tag === undefined) return CLONE_TAG;
    const picky = this.picky[tag];
    return picky === undefined || picky.canEncode!(message) ? tag : CLONE_TAG;
  }

  codec(tag: number): MessageCodec {
    const c = this.byTag[tag];
    if (!c) throw new MessageEncodingError(`received a message with unknown codec tag ${tag}`);
    return c;
  }

  /** The next free tag after every registered set. */
  get nextBase(): number {
    let next = 1;
    for (const { base, set } of this.sets.values()) next = Math.max(next, base + set.codecs.length);
    return next;
  }

  registered(): { module: string; base: number }[] {
    return [...this.sets.values()].map(({ base, set }) => ({ module: set.module, base }));
  }

  isActive(module: string): boolean {
    const entry = this.sets.get(module);
    return !!entry && entry.set.codecs.every((c) => this.active.has(c.type));
  }
}
