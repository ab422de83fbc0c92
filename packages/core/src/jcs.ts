// RFC 8785 JSON Canonicalization Scheme (DESIGN §4) and a strict JSON parser
// that rejects what JCS cannot represent (duplicate keys, lone surrogates)
// before anything is signed or hashed. Portable: no Buffer, no node: imports.
import { utf8 } from './bytes.js';

/** Why a value or a text cannot be canonicalized. */
export type JcsErrorCode =
  | 'NON_FINITE_NUMBER'
  | 'LONE_SURROGATE'
  | 'UNSUPPORTED_TYPE'
  | 'DUPLICATE_KEY'
  | 'INVALID_JSON'
  | 'NESTING_TOO_DEEP'
  | 'UNSAFE_INTEGER';

/** Thrown by {@link canonicalize} and {@link parseJsonStrict}; `code` says which rule was broken. */
export class JcsError extends Error {
  override readonly name = 'JcsError';
  readonly code: JcsErrorCode;
  /** Offset in the parsed text (UTF-16 code units), for parse errors. */
  readonly position?: number;
  /** The offending object key, for DUPLICATE_KEY. */
  readonly key?: string;
  /** Where in the value the problem sits, as `$.a[0].b`, for canonicalize errors. */
  readonly path?: string;

  constructor(
    code: JcsErrorCode,
    message: string,
    extra: { position?: number; key?: string; path?: string } = {},
  ) {
    super(message);
    this.code = code;
    if (extra.position !== undefined) this.position = extra.position;
    if (extra.key !== undefined) this.key = extra.key;
    if (extra.path !== undefined) this.path = extra.path;
  }
}

/** Deepest nesting of arrays and objects accepted, so hostile input cannot exhaust the stack. */
export const JCS_MAX_DEPTH = 1000;

/**
 * Strings that JCS (RFC 8785 §3.2.2.2) writes verbatim between quotes:
 * printable ASCII except `"` and `\`. Base64, hex, kids, payload types and
 * RFC 3339 times are made of these, so hot paths may splice them in as is.
 */
export const JCS_VERBATIM = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

// In unicode mode a surrogate pair is one code point, so this class only
// matches a surrogate that is not part of a pair (RFC 8785 §3.2.2.2).
const LONE_SURROGATE_RE = /[\uD800-\uDFFF]/u;

function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE_RE.test(s);
}

function pathKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

// Paths are only built when something fails: each level prepends its segment
// as the error unwinds, so the common path costs nothing.
function atPath(e: unknown, segment: string): never {
  if (e instanceof JcsError && e.path !== undefined) {
    const path = '$' + segment + e.path.slice(1);
    const what = e.message.slice(0, e.message.indexOf(' at $'));
    throw new JcsError(e.code, `${what} at ${path}`, { path });
  }
  throw e;
}

function fail(code: JcsErrorCode, what: string): never {
  throw new JcsError(code, `${what} at $`, { path: '$' });
}

// Characters that need an escape, or a surrogate check, in a JSON string.
const NEEDS_WORK_RE = /[\u0000-\u001f"\\\uD800-\uDFFF]/;

function serializeString(s: string): string {
  // Fast path: most strings (ids, GS1 subjects, timestamps) need no escaping.
  if (!NEEDS_WORK_RE.test(s)) return '"' + s + '"';
  if (hasLoneSurrogate(s)) fail('LONE_SURROGATE', 'string contains a lone surrogate');
  // For well-formed strings JSON.stringify escapes exactly as RFC 8785 §3.2.2.2 requires.
  return JSON.stringify(s);
}

/**
 * Own keys in UTF-16 code unit order. Parsed canonical JSON lists them in
 * that order already (insertion order), so the sort, and its copy, is skipped
 * when a pass finds them ascending.
 */
function sortedKeys(value: object): string[] {
  const keys = Object.keys(value);
  for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) return keys.sort();
  return keys;
}

function serialize(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return serializeString(value);
    case 'number':
      if (!Number.isFinite(value)) fail('NON_FINITE_NUMBER', `number ${value}`);
      // RFC 8785 §3.2.2.3: ES6 Number-to-String; String(-0) is already "0".
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (depth >= JCS_MAX_DEPTH) fail('NESTING_TOO_DEEP', `nesting deeper than ${JCS_MAX_DEPTH}`);
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          try {
            out += serialize(value[i], depth + 1);
          } catch (e) {
            atPath(e, `[${i}]`);
          }
        }
        return out + ']';
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        const kind = (value as object).constructor?.name ?? 'object';
        fail('UNSUPPORTED_TYPE', `${kind} is not a plain object`);
      }
      // RFC 8785 §3.2.3: sort by UTF-16 code units, which is what the default sort compares.
      const keys = sortedKeys(value);
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        if (i > 0) out += ',';
        try {
          out += serializeString(key);
          out += ':';
          out += serialize((value as Record<string, unknown>)[key], depth + 1);
        } catch (e) {
          atPath(e, pathKey(key));
        }
      }
      return out + '}';
    }
    default:
      // undefined, function, bigint, symbol: JSON has no representation (DESIGN §4: reject).
      return fail('UNSUPPORTED_TYPE', `${typeof value} has no JSON form`);
  }
}

/**
 * RFC 8785 canonical JSON text of `value`.
 *
 * Accepts null, booleans, finite numbers, strings without lone surrogates,
 * arrays and plain objects (prototype Object.prototype or null) of those.
 * `toJSON` is not consulted.
 *
 * @throws {JcsError} NON_FINITE_NUMBER, LONE_SURROGATE, UNSUPPORTED_TYPE (undefined
 *   anywhere, including as a property value; functions, bigint, symbols, class
 *   instances, Dates, typed arrays), NESTING_TOO_DEEP (over {@link JCS_MAX_DEPTH}, which
 *   also catches cycles).
 */
export function canonicalize(value: unknown): string {
  return serialize(value, 0);
}

/** UTF-8 bytes of {@link canonicalize}(value): what Provenant signs and hashes (DESIGN §4). */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalize(value));
}

// ---------------------------------------------------------------------------
// Strict parser. JSON.parse silently keeps the last of duplicate keys, so two
// parties could read different documents from the same bytes; this parser
// follows the RFC 8259 grammar and rejects such input. It also refuses an
// integer beyond ±(2^53−1) (I-JSON, RFC 7493 §2.2), which JSON.parse would
// round to another integer. Text is attacker-controlled.

/** Largest integer every I-JSON reader represents exactly (RFC 7493 §2.2). */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * True when a JSON number token (RFC 8259 grammar, already checked) is
 * mathematically an integer of magnitude above 2^53−1: `9007199254740993`,
 * `9.007199254740993e15`, `1e300`, `12345678901234567890.0`. A fraction
 * (`0.5`, `1e-400`) is not an integer and is not refused here.
 */
export function isUnsafeIntegerToken(token: string): boolean {
  const m = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(token);
  if (!m) return false;
  const frac = m[2] ?? '';
  // value = digits × 10^scale, with digits free of leading and trailing zeros.
  let digits = (m[1]! + frac).replace(/^0+/, '');
  let scale = Number(m[3] ?? '0') - frac.length;
  const trimmed = digits.replace(/0+$/, '');
  scale += digits.length - trimmed.length;
  digits = trimmed;
  if (digits === '' || scale < 0) return false; // zero, or not an integer
  // 10^16 > 2^53 − 1: seventeen or more integer digits are always beyond it.
  if (digits.length + scale > 16) return true;
  return BigInt(digits) * 10n ** BigInt(scale) > MAX_SAFE;
}

// Prepends a path segment to a parse error that carries a path (as it unwinds).
function atParsePath(e: unknown, segment: string): never {
  if (e instanceof JcsError && e.path !== undefined) {
    const path = '$' + segment + e.path.slice(1);
    const what = e.message.slice(0, e.message.lastIndexOf(' at $'));
    throw new JcsError(e.code, `${what} at ${path}`, {
      path,
      ...(e.position !== undefined ? { position: e.position } : {}),
      ...(e.key !== undefined ? { key: e.key } : {}),
    });
  }
  throw e;
}

const ESCAPES: Record<number, string> = {
  0x22: '"',
  0x5c: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** Options of {@link parseJsonStrict}. */
export interface ParseJsonOptions {
  /**
   * What to do with an integer beyond ±(2^53−1). `'refuse'` (default): throw
   * UNSAFE_INTEGER (I-JSON). `'round'`: JSON.parse's IEEE 754 rounding, only
   * for text that is not I-JSON by design (the RFC 8785 vectors' `1E30`).
   */
  readonly unsafeIntegers?: 'refuse' | 'round';
}

class Parser {
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly refuseUnsafe: boolean,
  ) {}

  fail(message: string, at = this.pos): never {
    const found = at < this.text.length ? JSON.stringify(this.text[at]) : 'end of input';
    throw new JcsError('INVALID_JSON', `${message} at position ${at} (found ${found})`, {
      position: at,
    });
  }

  skipWs(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      // RFC 8259 §2: only space, tab, LF and CR are whitespace.
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  parseDocument(): unknown {
    this.skipWs();
    const value = this.parseValue(0);
    this.skipWs();
    if (this.pos !== this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  parseValue(depth: number): unknown {
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: // {
        return this.parseObject(depth + 1);
      case 0x5b: // [
        return this.parseArray(depth + 1);
      case 0x22: // "
        return this.parseString();
      case 0x74: // t
        return this.literal('true', true);
      case 0x66: // f
        return this.literal('false', false);
      case 0x6e: // n
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
        return this.fail('expected a JSON value');
    }
  }

  literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return value;
  }

  checkDepth(depth: number): void {
    if (depth > JCS_MAX_DEPTH) {
      throw new JcsError(
        'NESTING_TOO_DEEP',
        `nesting deeper than ${JCS_MAX_DEPTH} at position ${this.pos}`,
        {
          position: this.pos,
        },
      );
    }
  }

  parseObject(depth: number): Record<string, unknown> {
    this.checkDepth(depth);
    const t = this.text;
    const obj: Record<string, unknown> = {};
    this.pos++; // {
    this.skipWs();
    if (t.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return obj;
    }
    for (;;) {
      if (t.charCodeAt(this.pos) !== 0x22) this.fail('expected a string key');
      const keyAt = this.pos;
      const key = this.parseString();
      if (Object.hasOwn(obj, key)) {
        const path = '$' + pathKey(key);
        throw new JcsError(
          'DUPLICATE_KEY',
          `duplicate key ${JSON.stringify(key)} (position ${keyAt}) at ${path}`,
          { position: keyAt, key, path },
        );
      }
      this.skipWs();
      if (t.charCodeAt(this.pos) !== 0x3a) this.fail('expected ":"');
      this.pos++;
      this.skipWs();
      let value: unknown;
      try {
        value = this.parseValue(depth);
      } catch (e) {
        atParsePath(e, pathKey(key));
      }
      if (key === '__proto__') {
        // An own data property, as JSON.parse makes it: never the prototype setter.
        Object.defineProperty(obj, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        obj[key] = value;
      }
      this.skipWs();
      const c = t.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipWs();
      } else if (c === 0x7d) {
        this.pos++;
        return obj;
      } else {
        this.fail('expected "," or "}"');
      }
    }
  }

  parseArray(depth: number): unknown[] {
    this.checkDepth(depth);
    const t = this.text;
    const arr: unknown[] = [];
    this.pos++; // [
    this.skipWs();
    if (t.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return arr;
    }
    for (;;) {
      try {
        arr.push(this.parseValue(depth));
      } catch (e) {
        atParsePath(e, `[${arr.length}]`);
      }
      this.skipWs();
      const c = t.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipWs();
      } else if (c === 0x5d) {
        this.pos++;
        return arr;
      } else {
        this.fail('expected "," or "]"');
      }
    }
  }

  parseString(): string {
    const t = this.text;
    const start = this.pos;
    let p = start + 1; // past the opening quote
    let chunkStart = p;
    let out = '';
    let surrogates = false;
    for (;;) {
      if (p >= t.length) this.fail('unterminated string', start);
      const c = t.charCodeAt(p);
      if (c === 0x22) break;
      if (c === 0x5c) {
        out += t.slice(chunkStart, p);
        const e = t.charCodeAt(p + 1);
        if (e === 0x75) {
          let code = 0;
          for (let i = 2; i < 6; i++) {
            const d = hexDigit(t.charCodeAt(p + i));
            if (d < 0) this.fail('bad \\u escape', p);
            code = (code << 4) | d;
          }
          if (code >= 0xd800 && code <= 0xdfff) surrogates = true;
          out += String.fromCharCode(code);
          p += 6;
        } else {
          const ch = ESCAPES[e];
          if (ch === undefined) this.fail('bad escape', p);
          out += ch;
          p += 2;
        }
        chunkStart = p;
        continue;
      }
      // RFC 8259 §7: control characters must be escaped.
      if (c < 0x20) this.fail('unescaped control character in string', p);
      if (c >= 0xd800 && c <= 0xdfff) surrogates = true;
      p++;
    }
    out += t.slice(chunkStart, p);
    this.pos = p + 1;
    // Checked on the decoded string so an escaped high half may pair with an escaped low half.
    if (surrogates && hasLoneSurrogate(out)) {
      throw new JcsError(
        'LONE_SURROGATE',
        `string at position ${start} contains a lone surrogate`,
        {
          position: start,
        },
      );
    }
    return out;
  }

  parseNumber(): number {
    const t = this.text;
    const start = this.pos;
    let p = start;
    if (t.charCodeAt(p) === 0x2d) p++;
    // RFC 8259 §6: int = zero / ( digit1-9 *DIGIT ); no leading zeros.
    let c = t.charCodeAt(p);
    if (c === 0x30) {
      p++;
    } else if (c >= 0x31 && c <= 0x39) {
      do p++;
      while (isDigit(t.charCodeAt(p)));
    } else {
      this.fail('expected a digit', p);
    }
    if (t.charCodeAt(p) === 0x2e) {
      p++;
      if (!isDigit(t.charCodeAt(p))) this.fail('expected a digit after "."', p);
      do p++;
      while (isDigit(t.charCodeAt(p)));
    }
    c = t.charCodeAt(p);
    if (c === 0x65 || c === 0x45) {
      p++;
      c = t.charCodeAt(p);
      if (c === 0x2b || c === 0x2d) p++;
      if (!isDigit(t.charCodeAt(p))) this.fail('expected a digit in the exponent', p);
      do p++;
      while (isDigit(t.charCodeAt(p)));
    }
    this.pos = p;
    const token = t.slice(start, p);
    // Short plain integers (the common case) are always safe: skip the check.
    if (
      this.refuseUnsafe &&
      (p - start > 15 || !/^-?\d+$/.test(token)) &&
      isUnsafeIntegerToken(token)
    ) {
      throw new JcsError(
        'UNSAFE_INTEGER',
        `integer ${token.length > 40 ? token.slice(0, 40) + '…' : token} is beyond ±(2^53−1) (I-JSON: refused, never rounded) at $`,
        { position: start, path: '$' },
      );
    }
    // Same IEEE 754 rounding as JSON.parse for fractions; out-of-range magnitudes
    // become ±Infinity like JSON.parse, and canonicalize then rejects them.
    return Number(token);
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Parses JSON text with JSON.parse semantics, but rejects what JCS cannot
 * represent faithfully: duplicate keys in any object and lone surrogates in
 * any string (RFC 8785 §3.1, DESIGN §4). Objects come back as plain objects
 * (a `"__proto__"` key becomes an own property, never the prototype).
 *
 * @throws {JcsError} INVALID_JSON (with `position`), DUPLICATE_KEY (with `key`
 *   and `position`), LONE_SURROGATE, NESTING_TOO_DEEP (over {@link JCS_MAX_DEPTH}),
 *   UNSAFE_INTEGER (an integer beyond ±(2^53−1), I-JSON RFC 7493 §2.2; with
 *   `position` and the value's `path`, e.g. `$.items[2].n`).
 */
export function parseJsonStrict(text: string, options: ParseJsonOptions = {}): unknown {
  if (typeof text !== 'string') {
    throw new JcsError('UNSUPPORTED_TYPE', `parseJsonStrict expects a string, got ${typeof text}`);
  }
  return new Parser(text, options.unsafeIntegers !== 'round').parseDocument();
}
