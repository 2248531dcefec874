/**
 * A small reader for EDN (extensible data notation, Clojure's data syntax), enough for Jepsen
 * histories: nil, booleans, numbers, strings, characters, keywords, symbols, vectors, lists,
 * maps, sets, comments and `#_` discards. Tagged literals (`#inst …`) are refused.
 */
import { SynodError, registerErrors } from '@synod/errors';

/** An EDN keyword such as `:ok`. Interned, so keywords compare with `===`. */
export class Keyword {
  private static readonly interned = new Map<string, Keyword>();
  private constructor(readonly name: string) {}
  static of(name: string): Keyword {
    let k = Keyword.interned.get(name);
    if (!k) {
      k = new Keyword(name);
      Keyword.interned.set(name, k);
    }
    return k;
  }
  toString(): string {
    return ':' + this.name;
  }
}

/** An EDN symbol such as `foo` (not `nil`, `true` or `false`). */
export class EdnSymbol {
  constructor(readonly name: string) {}
  toString(): string {
    return this.name;
  }
}

/** An EDN set `#{…}`. */
export class EdnSet {
  constructor(readonly items: EdnValue[]) {}
}

/** An EDN character such as `\a`. */
export class EdnChar {
  constructor(readonly char: string) {}
}

/** Maps keep keys as read; look keywords up with `Keyword.of`. */
export type EdnMap = Map<EdnValue, EdnValue>;
export type EdnValue = null | boolean | number | bigint | string | Keyword | EdnSymbol | EdnChar | EdnSet | EdnValue[] | EdnMap;

/** Bad EDN; `offset` is the position in the text that was read. */
export class EdnSyntaxError extends SynodError {
  override readonly name = 'EdnSyntaxError';
  override readonly code: string = 'edn-syntax';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Bounds on what the reader accepts, so hostile input cannot exhaust the stack. */
export interface EdnReadOptions {
  /** Deepest nesting of collections (default 64). */
  maxDepth?: number;
}

const DELIMITERS = new Set([' ', '\t', '\n', '\r', ',', '(', ')', '[', ']', '{', '}', '"', ';']);

/** Reads exactly one EDN form from `text` (surrounding whitespace and comments allowed). */
export function readEdn(text: string, options: EdnReadOptions = {}): EdnValue {
  const r = new Reader(text, options.maxDepth ?? 64);
  r.skip();
  if (r.pos >= text.length) throw new EdnSyntaxError('expected a value, found nothing', r.pos);
  const v = r.read(0);
  r.skip();
  if (r.pos < text.length) throw new EdnSyntaxError(`unexpected ${JSON.stringify(text[r.pos])} after the value`, r.pos);
  return v;
}

const DISCARD = Symbol('discard');

class Reader {
  pos = 0;
  constructor(
    readonly text: string,
    readonly maxDepth: number,
  ) {}

  skip(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos]!;
      if (c === ' ' || c === ',' || c === '\n' || c === '\t' || c === '\r') this.pos++;
      else if (c === ';') {
        while (this.pos < t.length && t[this.pos] !== '\n') this.pos++;
      } else break;
    }
  }

  read(depth: number): EdnValue {
    for (;;) {
      const v = this.readOrDiscard(depth);
      if (v !== DISCARD) return v;
      this.skip();
      if (this.pos >= this.text.length) throw new EdnSyntaxError('expected a value after #_', this.pos);
    }
  }

  private readOrDiscard(depth: number): EdnValue | typeof DISCARD {
    const t = this.text;
    const start = this.pos;
    const c = t[start];
    if (c === undefined) throw new EdnSyntaxError('unexpected end of input', start);
    switch (c) {
      case '"':
        return this.string();
      case '[':
        return this.seq(']', depth);
      case '(':
        return this.seq(')', depth);
      case '{':
        return this.map(depth);
      case ':': {
        this.pos++;
        const name = this.token();
        if (name === '') throw new EdnSyntaxError('a keyword needs a name after ":"', start);
        return Keyword.of(name);
      }
      case '\\': {
        this.pos++;
        const name = this.pos < t.length ? t[this.pos]! + this.tokenFrom(this.pos + 1) : '';
        const named: Record<string, string> = { newline: '\n', space: ' ', tab: '\t', return: '\r', backspace: '\b', formfeed: '\f' };
        if (name.length === 1) return new EdnChar(name);
        if (named[name]) return new EdnChar(named[name]);
        if (/^u[0-9a-fA-F]{4}$/.test(name)) return new EdnChar(String.fromCharCode(parseInt(name.slice(1), 16)));
        throw new EdnSyntaxError(`unknown character literal \\${name}`, start);
      }
      case '#': {
        const n = t[start + 1];
        if (n === '{') {
          this.pos++;
          return new EdnSet(this.seq('}', depth));
        }
        if (n === '_') {
          this.pos += 2;
          this.skip();
          this.read(depth);
          return DISCARD;
        }
        throw new EdnSyntaxError('tagged literals (#tag value) are not supported', start);
      }
      case ')':
      case ']':
      case '}':
        throw new EdnSyntaxError(`unexpected ${JSON.stringify(c)}`, start);
      default: {
        const tok = this.token();
        if (tok === '') throw new EdnSyntaxError(`unexpected ${JSON.stringify(c)}`, start);
        return atom(tok, start);
      }
    }
  }

  private token(): string {
    const s = this.tokenFrom(this.pos);
    return s;
  }

  private tokenFrom(from: number): string {
    const t = this.text;
    let i = from;
    while (i < t.length && !DELIMITERS.has(t[i]!)) i++;
    this.pos = i;
    return t.slice(from, i);
  }

  private string(): string {
    const t = this.text;
    const start = this.pos;
    let i = start + 1;
    let out = '';
    let chunk = i;
    for (;;) {
      if (i >= t.length) throw new EdnSyntaxError('unterminated string', start);
      const c = t.charCodeAt(i);
      if (c === 34 /* " */) {
        out += t.slice(chunk, i);
        this.pos = i + 1;
        return out;
      }
      if (c === 92 /* \ */) {
        out += t.slice(chunk, i);
        const e = t[i + 1];
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'u': {
            const hex = t.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new EdnSyntaxError('bad \\u escape in string', i);
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            throw new EdnSyntaxError(`bad escape \\${e ?? ''} in string`, i);
        }
        i += 2;
        chunk = i;
        continue;
      }
      i++;
    }
  }

  private seq(close: string, depth: number): EdnValue[] {
    const start = this.pos;
    if (depth >= this.maxDepth) throw new EdnSyntaxError(`nested deeper than ${this.maxDepth} collections`, start);
    this.pos++;
    const items: EdnValue[] = [];
    for (;;) {
      this.skip();
      if (this.pos >= this.text.length) throw new EdnSyntaxError(`missing ${JSON.stringify(close)}`, start);
      if (this.text[this.pos] === close) {
        this.pos++;
        return items;
      }
      const v = this.readOrDiscard(depth + 1);
      if (v !== DISCARD) items.push(v);
    }
  }

  private map(depth: number): EdnMap {
    const start = this.pos;
    const items = this.seq('}', depth);
    if (items.length % 2 !== 0) throw new EdnSyntaxError('a map needs an even number of forms (key value …)', start);
    const m: EdnMap = new Map();
    for (let i = 0; i < items.length; i += 2) {
      if (m.has(items[i]!)) throw new EdnSyntaxError(`duplicate map key ${formatEdn(items[i]!)}`, start);
      m.set(items[i]!, items[i + 1]!);
    }
    return m;
  }
}

const INT = /^[+-]?\d+N?$/;
const FLOAT = /^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?M?$/;

function atom(tok: string, at: number): EdnValue {
  if (tok === 'nil') return null;
  if (tok === 'true') return true;
  if (tok === 'false') return false;
  if (INT.test(tok)) {
    const digits = tok.endsWith('N') ? tok.slice(0, -1) : tok;
    const n = Number(digits);
    return Number.isSafeInteger(n) ? n : BigInt(digits);
  }
  if (FLOAT.test(tok)) return Number(tok.endsWith('M') ? tok.slice(0, -1) : tok);
  if (/^[+-]?\d/.test(tok)) throw new EdnSyntaxError(`bad number ${JSON.stringify(tok)}`, at);
  return new EdnSymbol(tok);
}

/** Writes a value back as EDN, for messages. */
export function formatEdn(v: EdnValue): string {
  if (v === null) return 'nil';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}N`;
  if (typeof v !== 'object') return String(v);
  if (v instanceof Keyword || v instanceof EdnSymbol) return v.toString();
  if (v instanceof EdnChar) return '\\' + v.char;
  if (v instanceof EdnSet) return '#{' + v.items.map(formatEdn).join(' ') + '}';
  if (Array.isArray(v)) return '[' + v.map(formatEdn).join(' ') + ']';
  return '{' + [...v].map(([k, x]) => `${formatEdn(k)} ${formatEdn(x)}`).join(', ') + '}';
}

registerErrors({ EdnSyntaxError });
