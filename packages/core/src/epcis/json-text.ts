// The exact JSON text of each event of an EPCIS document (DESIGN §11: events
// are stored and returned exactly as captured). The body was parsed strictly
// already (no duplicate keys); this scanner only finds where each element of
// one array sits in the text, so its bytes can be kept as they arrived.

/** Thrown when `text` is not the JSON the caller parsed (misuse, not bad input). */
export class JsonTextError extends Error {
  override readonly name = 'JsonTextError';
}

class Scanner {
  i = 0;
  constructor(readonly s: string) {}

  ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i]!)) this.i++;
  }

  expect(ch: string): void {
    this.ws();
    if (this.s[this.i] !== ch) throw new JsonTextError(`expected ${ch} at ${this.i}`);
    this.i++;
  }

  /** Skips one string and returns its decoded value. */
  string(): string {
    this.ws();
    const start = this.i;
    if (this.s[this.i] !== '"') throw new JsonTextError(`expected a string at ${this.i}`);
    this.i++;
    while (this.i < this.s.length && this.s[this.i] !== '"') {
      if (this.s[this.i] === '\\') this.i++;
      this.i++;
    }
    this.i++;
    return JSON.parse(this.s.slice(start, this.i)) as string;
  }

  /** Skips one value; returns [start, end) of its text. */
  value(): [number, number] {
    this.ws();
    const start = this.i;
    const c = this.s[this.i];
    if (c === '"') this.string();
    else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      this.i++;
      this.ws();
      if (this.s[this.i] === close) this.i++;
      else
        for (;;) {
          if (c === '{') {
            this.string();
            this.expect(':');
          }
          this.value();
          this.ws();
          const next = this.s[this.i++];
          if (next === close) break;
          if (next !== ',') throw new JsonTextError(`expected , or ${close} at ${this.i - 1}`);
        }
    } else {
      while (this.i < this.s.length && !',}] \t\n\r'.includes(this.s[this.i]!)) this.i++;
    }
    return [start, this.i];
  }
}

/**
 * The text of each element of the array at `path` (object keys from the
 * root) in the JSON `text`, exactly as written; undefined when the path
 * names no array. `text` must be valid JSON without duplicate keys.
 * @throws JsonTextError when `text` is not valid JSON.
 */
export function jsonArrayElementTexts(text: string, path: readonly string[]): string[] | undefined {
  const sc = new Scanner(text);
  for (const key of path) {
    sc.ws();
    if (sc.s[sc.i] !== '{') return undefined;
    sc.i++;
    let found = false;
    sc.ws();
    if (sc.s[sc.i] === '}') return undefined;
    for (;;) {
      const k = sc.string();
      sc.expect(':');
      if (k === key) {
        found = true;
        break;
      }
      sc.value();
      sc.ws();
      const next = sc.s[sc.i++];
      if (next === '}') break;
      if (next !== ',') throw new JsonTextError(`expected , or } at ${sc.i - 1}`);
    }
    if (!found) return undefined;
  }
  sc.ws();
  if (sc.s[sc.i] !== '[') return undefined;
  sc.i++;
  const out: string[] = [];
  sc.ws();
  if (sc.s[sc.i] === ']') return out;
  for (;;) {
    const [a, b] = sc.value();
    out.push(text.slice(a, b));
    sc.ws();
    const next = sc.s[sc.i++];
    if (next === ']') return out;
    if (next !== ',') throw new JsonTextError(`expected , or ] at ${sc.i - 1}`);
  }
}
