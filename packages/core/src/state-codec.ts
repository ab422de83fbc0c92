// The verifier's stored form of a subject's verified state (DESIGN §7b "per
// subject the verified head, status, custodian, product"; issue 15: at most
// ~200 B per subject with its row and index). A ChainState and the log index of
// its head, bit-packed behind a leading version byte:
//  - nothing derivable from the subject key is kept: the GTIN and serial of a
//    unit's product (`01/{gtin}/21/{serial}`), its kind (`00/` is a container),
//    whether it has a product (units do); children live in verifier_children;
//  - fields equal to another are one bit: originator and custodian (usually
//    the last actor), ids equal to the head, a shipper that is the custodian;
//  - typed fields take their information content: a record id 256 bits, a
//    time 42 bits of epoch ms, a GLN 40 bits (its check digit is recomputed),
//    an expiry date 16 bits of days, a lot 7 bits per character; enums are
//    indices. A state with any field outside those forms (never one core's
//    applyRecord builds from schema-checked records) is written with every
//    typed field as a plain string, so every state round-trips exactly.
// A commissioned unit takes 51 bytes (lot of 2 characters, head below log
// index 65,536). Pure: bytes in, values out.
import { daysInMonth } from '@provenant/gs1';
import type { ChainState, CommissionedProduct } from './custody.js';
import {
  DECOMMISSION_REASONS,
  RECORD_TYPES,
  isValidGln,
  subjectParts,
  type DecommissionReason,
} from './records.js';

/** The encoding written now; decoders refuse any other leading byte. */
export const VERIFIED_STATE_VERSION = 1;

/** Stored bytes that do not decode (a corrupt or tampered row). */
export class StateCodecError extends Error {
  override readonly name = 'StateCodecError';
  readonly code = 'STATE_ENCODING_INVALID' as const;
}

/** A subject's verified state as stored: its ChainState (children left out) and its head's log index. */
export interface VerifiedState {
  headIndex: number;
  /** `children` is empty: a container's children are stored apart (verifier_children) */
  state: ChainState;
}

const NO_CHILDREN: ChainState['children'] = Object.freeze([]);
const HASH_RE = /^[0-9a-f]{64}$/;
const TIME_BITS = 42; // epoch ms up to the year 2109
const DAY_MS = 86_400_000;
// Hot path (a pallet's units are decoded per answer): hex and ASCII by table, not by regex or TextEncoder.
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

// Extended flags (present when the base `ext` bit is set), in this order.
const EXT = [
  'inactive',
  'inTransit',
  'containedIn',
  'unpacked',
  'quarantined',
  'decommission',
  'noReceiptTime', // decommission.integratedAt absent (states from before it was kept)
  'originatorDiffers', // originator is not lastActor
  'custodianDiffers', // custodian is not lastActor
  'kindFlip', // kind is not the subject's (00/ = container)
  'productFlip', // product presence is not kind === 'unit'
  'productExplicit', // gtin and serial are not the subject's
  'productDetails',
  'raw', // every typed field is a plain string
] as const;
type ExtFlag = (typeof EXT)[number];

/** Number of bits of a non-negative safe integer (0 for 0). */
function bitLength(v: number): number {
  return v < 2 ** 31 ? 32 - Math.clz32(v) : 31 + bitLength(Math.floor(v / 2 ** 31));
}

class BitWriter {
  /** bytes written so far: out[0, len) (grown by doubling; a state is ~50 bytes) */
  private out = new Uint8Array(64);
  private len = 0;
  private acc = 0;
  private n = 0;

  /** `bits` (0..53) low bits of the non-negative integer `v`, most significant first. */
  bits(v: number, bits: number): void {
    while (bits > 16) {
      const low = bits - 16;
      const hi = Math.floor(v / 2 ** low);
      this.small(hi, 16);
      v -= hi * 2 ** low;
      bits = low;
    }
    this.small(v, bits);
  }

  private small(v: number, bits: number): void {
    this.acc = (this.acc << bits) | v;
    this.n += bits;
    while (this.n >= 8) {
      this.n -= 8;
      if (this.len === this.out.length) {
        const grown = new Uint8Array(2 * this.out.length);
        grown.set(this.out);
        this.out = grown;
      }
      this.out[this.len++] = (this.acc >>> this.n) & 0xff;
    }
    this.acc &= (1 << this.n) - 1;
  }

  bit(b: boolean): void {
    this.small(b ? 1 : 0, 1);
  }

  /** Elias-gamma-like: 5 bits of bit length (31: 6 more bits), then the bits below the leading 1. */
  uint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`not a stored integer: ${v}`);
    const l = bitLength(v);
    if (l < 31) this.small(l, 5);
    else {
      this.small(31, 5);
      this.small(l, 6);
    }
    if (l > 1) this.bits(v - 2 ** (l - 1), l - 1);
  }

  bytes(b: Uint8Array): void {
    for (const x of b) this.small(x, 8);
  }

  str(s: string): void {
    for (let i = 0; i < s.length; i++)
      if (s.charCodeAt(i) > 0x7f) {
        const b = utf8Encoder.encode(s);
        this.uint(b.length);
        this.bytes(b);
        return;
      }
    this.uint(s.length);
    for (let i = 0; i < s.length; i++) this.small(s.charCodeAt(i), 8);
  }

  /** 64 lowercase hex digits (checked by the caller) as 32 bytes. */
  hash(s: string): void {
    for (let i = 0; i < 64; i += 2) this.small((nibble(s, i) << 4) | nibble(s, i + 1), 8);
  }

  finish(): Uint8Array {
    if (this.n > 0) this.small(0, 8 - this.n);
    return this.out.slice(0, this.len);
  }
}

class BitReader {
  private pos = 0; // in bits

  constructor(private readonly b: Uint8Array) {}

  bits(bits: number): number {
    let v = 0;
    while (bits > 0) {
      const take = Math.min(bits, 16);
      v = v * 2 ** take + this.small(take);
      bits -= take;
    }
    return v;
  }

  private small(bits: number): number {
    if (this.pos + bits > this.b.length * 8) throw new StateCodecError('stored state is truncated');
    let v = 0;
    while (bits > 0) {
      // as many bits as the current byte still has
      const free = 8 - (this.pos & 7);
      const take = Math.min(free, bits);
      const byte = this.b[this.pos >>> 3]!;
      v = (v << take) | ((byte >>> (free - take)) & ((1 << take) - 1));
      this.pos += take;
      bits -= take;
    }
    return v;
  }

  bit(): boolean {
    return this.small(1) === 1;
  }

  /** Passes over `bits` bits; throws where reading them would (truncation). */
  skip(bits: number): void {
    if (this.pos + bits > this.b.length * 8) throw new StateCodecError('stored state is truncated');
    this.pos += bits;
  }

  uint(): number {
    let l = this.small(5);
    if (l === 31) l = this.small(6);
    if (l > 53) throw new StateCodecError('stored integer is too large');
    if (l === 0) return 0;
    return 2 ** (l - 1) + (l > 1 ? this.bits(l - 1) : 0);
  }

  bytes(n: number): Uint8Array {
    if (this.pos + n * 8 > this.b.length * 8)
      throw new StateCodecError('stored state is truncated');
    // Byte by byte from two stored bytes (or one, when aligned): strings are the long fields.
    const shift = this.pos & 7;
    const at = this.pos >>> 3;
    const out = shift === 0 ? this.b.slice(at, at + n) : new Uint8Array(n);
    if (shift !== 0)
      for (let i = 0; i < n; i++)
        out[i] = ((this.b[at + i]! << shift) | (this.b[at + i + 1]! >>> (8 - shift))) & 0xff;
    this.pos += n * 8;
    return out;
  }

  str(): string {
    const n = this.uint();
    if (n > this.b.length) throw new StateCodecError('stored string is truncated');
    const b = this.bytes(n);
    for (let i = 0; i < n; i++) {
      if (b[i]! > 0x7f) {
        try {
          return utf8Decoder.decode(b);
        } catch {
          throw new StateCodecError('stored string is not UTF-8');
        }
      }
    }
    // ASCII: one string, not one per character (a pallet's units each name their container)
    let ascii = '';
    for (let i = 0; i < n; i += 1024)
      ascii += String.fromCharCode.apply(null, b.subarray(i, i + 1024) as unknown as number[]);
    return ascii;
  }

  hash(): string {
    let out = '';
    for (let i = 0; i < 32; i++) out += HEX_BYTE[this.small(8)]!;
    return out;
  }

  /** Only zero padding may follow the last field. */
  end(): void {
    const rest = this.b.length * 8 - this.pos;
    if (rest >= 8 || (rest > 0 && this.small(rest) !== 0))
      throw new StateCodecError('stored state has trailing bytes');
  }
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** `YYYY-MM-DD` of a day count since 1970-01-01, 0 <= days < 2^16 (civil_from_days, H. Hinnant). */
function isoDate(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${y}-${pad2(m)}-${pad2(d)}`;
}

/** `YYYY-MM-DDTHH:mm:ss.sssZ` of epoch ms, 0 <= ms < 2^42 (what toISOString writes). */
function isoTime(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  let r = ms - days * DAY_MS;
  const h = Math.floor(r / 3_600_000);
  r -= h * 3_600_000;
  const mi = Math.floor(r / 60_000);
  r -= mi * 60_000;
  const sec = Math.floor(r / 1000);
  const milli = r - sec * 1000;
  const mss = milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : `${milli}`;
  return `${isoDate(days)}T${pad2(h)}:${pad2(mi)}:${pad2(sec)}.${mss}Z`;
}

/** Value of the lowercase hex digit at `i`. */
function nibble(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c <= 57 ? c - 48 : c - 87;
}

/** GS1 mod-10 check digit of `body` (GS1 General Specifications §7.9.1). */
function checkDigit(body: string): number {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += (body.charCodeAt(i) - 48) * w;
  return (10 - (sum % 10)) % 10;
}

/** The 12 digits of a stored GLN before its check digit. */
function glnBody(r: BitReader): number {
  const v = r.bits(40);
  if (v >= 1e12) throw new StateCodecError('stored GLN is out of range');
  return v;
}

/** Value of the decimal digits s[from, to), or NaN when one is not a digit. */
function digits(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Days since 1970-01-01 of the first 10 characters of `s` when they are
 * `YYYY-MM-DD` of a real date from 1970 on (what toISOString writes for it),
 * else NaN. By character codes, not Date.parse and toISOString: the monitor
 * encodes a state per record.
 */
function canonicalDays(s: string): number {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return NaN; // '-'
  const y = digits(s, 0, 4);
  const m = digits(s, 5, 7);
  const d = digits(s, 8, 10);
  if (!(y >= 1970 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m))) return NaN;
  // days_from_civil (H. Hinnant), the inverse of isoDate's civil_from_days; years from 1970
  const ya = m <= 2 ? y - 1 : y;
  const era = Math.floor(ya / 400);
  const yoe = ya - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Epoch ms of `s` when it is exactly what toISOString writes for it, from 1970 to 9999, else NaN. */
function canonicalTimeMs(s: string): number {
  if (s.length !== 24) return NaN;
  // 'T' ':' ':' '.' 'Z'
  if (
    s.charCodeAt(10) !== 84 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58 ||
    s.charCodeAt(19) !== 46 ||
    s.charCodeAt(23) !== 90
  )
    return NaN;
  const days = canonicalDays(s);
  const h = digits(s, 11, 13);
  const mi = digits(s, 14, 16);
  const sec = digits(s, 17, 19);
  const ms = digits(s, 20, 23);
  if (!(h < 24 && mi < 60 && sec < 60 && ms >= 0)) return NaN;
  return days * DAY_MS + ((h * 60 + mi) * 60 + sec) * 1000 + ms;
}

// Typed fields: whether a value has the compact form, its writer, its reader,
// and a skip that refuses exactly what the reader refuses without building the value.
const typed = {
  hash: {
    fits: (s: string) => HASH_RE.test(s),
    put: (w: BitWriter, s: string) => w.hash(s),
    get: (r: BitReader) => r.hash(),
    skip: (r: BitReader) => r.skip(256),
  },
  time: {
    // the one spelling toISOString writes (DESIGN §5 times), from 1970 to 2109
    fits: (s: string) => canonicalTimeMs(s) < 2 ** TIME_BITS, // NaN: false
    put: (w: BitWriter, s: string) => w.bits(canonicalTimeMs(s), TIME_BITS),
    get: (r: BitReader) => isoTime(r.bits(TIME_BITS)),
    skip: (r: BitReader) => r.skip(TIME_BITS),
  },
  gln: {
    fits: (s: string) => isValidGln(s),
    put: (w: BitWriter, s: string) => w.bits(Number(s.slice(0, 12)), 40),
    get: (r: BitReader) => {
      const body = String(glnBody(r)).padStart(12, '0');
      return body + checkDigit(body);
    },
    skip: (r: BitReader) => void glnBody(r),
  },
  date: {
    // YYYY-MM-DD from 1970 to 2149
    fits: (s: string) => s.length === 10 && canonicalDays(s) < 2 ** 16, // NaN: false
    put: (w: BitWriter, s: string) => w.bits(canonicalDays(s), 16),
    get: (r: BitReader) => isoDate(r.bits(16)),
    skip: (r: BitReader) => r.skip(16),
  },
  ascii: {
    // a lot: GS1 character set 82 is 7-bit ASCII
    fits: (s: string) => /^[\x20-\x7e]*$/.test(s),
    put: (w: BitWriter, s: string) => {
      w.uint(s.length);
      for (let i = 0; i < s.length; i++) w.bits(s.charCodeAt(i), 7);
    },
    get: (r: BitReader) => {
      const n = r.uint();
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(r.bits(7));
      return s;
    },
    skip: (r: BitReader) => r.skip(7 * r.uint()),
  },
} as const;
type Typed = keyof typeof typed;

function derivedKind(subject: string): ChainState['kind'] {
  return subject.startsWith('00/') ? 'container' : 'unit';
}

function derivedProduct(subject: string): { gtin: string; serial: string } | null {
  const p = subjectParts(subject);
  return p?.kind === 'unit' ? { gtin: p.gtin, serial: p.serial } : null;
}

/** Writes typed fields (as strings when the state is raw): the writing half of FieldReader. */
class FieldWriter {
  constructor(
    readonly w: BitWriter,
    private readonly raw: boolean,
    private readonly head: string,
  ) {}

  put(t: Typed, v: string): void {
    if (this.raw) this.w.str(v);
    else typed[t].put(this.w, v);
  }

  /** An id equal to the head (the record that set it is the last one): one bit; else the id. */
  ref(id: string): void {
    this.w.bit(id === this.head);
    if (id !== this.head) this.put('hash', id);
  }
}

/**
 * Encodes a subject's verified state (`state.subject` is the key and is not
 * stored; nor are `state.children`). Deterministic: equal states give equal bytes.
 * @throws RangeError when `headIndex` is not a non-negative safe integer, or
 *   `state` has a record type or kind core does not define (misuse).
 */
export function encodeVerifiedState(state: ChainState, headIndex: number): Uint8Array {
  const s = state;
  const lastType = RECORD_TYPES.indexOf(s.lastType);
  if (lastType < 0) throw new RangeError(`unknown record type ${String(s.lastType)}`);
  if (s.kind !== 'unit' && s.kind !== 'container')
    throw new RangeError(`unknown kind ${String(s.kind)}`);
  const p = s.product;
  const derived = derivedProduct(s.subject);
  const d = s.decommission;
  const reason = d ? DECOMMISSION_REASONS.indexOf(d.reason) : -1;
  const flags: Record<ExtFlag, boolean> = {
    inactive: !s.active,
    inTransit: s.inTransit !== null,
    containedIn: s.containedIn !== null,
    unpacked: s.unpacked !== null,
    quarantined: s.quarantined !== null,
    decommission: d !== null,
    noReceiptTime: d !== null && d.integratedAt === undefined,
    originatorDiffers: s.originator !== s.lastActor,
    custodianDiffers: s.custodian !== s.lastActor,
    kindFlip: s.kind !== derivedKind(s.subject),
    productFlip: (p !== null) !== (s.kind === 'unit'),
    productExplicit: p !== null && (derived?.gtin !== p.gtin || derived.serial !== p.serial),
    productDetails: p?.details !== undefined,
    raw: false,
  };
  // Every typed field in its compact form, or all as strings.
  const fields: [Typed, string][] = [
    ['hash', s.head],
    ['time', s.lastTime],
    ['gln', s.lastActor],
    ['gln', s.originator],
    ['gln', s.custodian],
  ];
  if (s.inTransit) fields.push(['gln', s.inTransit.from], ['gln', s.inTransit.to]);
  if (s.inTransit) fields.push(['hash', s.inTransit.id]);
  if (s.unpacked) fields.push(['hash', s.unpacked.id]);
  if (s.quarantined) fields.push(['hash', s.quarantined.id]);
  if (d) fields.push(['hash', d.id], ['gln', d.actor], ['time', d.time]);
  if (d?.integratedAt !== undefined) fields.push(['time', d.integratedAt]);
  if (p) fields.push(['ascii', p.lot], ['date', p.expiry]);
  for (const [t, v] of fields) if (!typed[t].fits(v)) flags.raw = true;
  const w = new BitWriter();
  const fw = new FieldWriter(w, flags.raw, s.head);
  w.bits(VERIFIED_STATE_VERSION, 8);
  w.bits(lastType, 4);
  const ext = EXT.some((f) => flags[f]);
  w.bit(s.seq !== 0);
  w.bit(ext);
  if (ext) for (const f of EXT) w.bit(flags[f]);
  if (s.seq !== 0) w.uint(s.seq);
  w.uint(headIndex);
  fw.put('hash', s.head);
  fw.put('time', s.lastTime);
  fw.put('gln', s.lastActor);
  if (flags.originatorDiffers) fw.put('gln', s.originator);
  if (flags.custodianDiffers) fw.put('gln', s.custodian);
  if (s.inTransit) {
    w.bit(s.inTransit.from === s.custodian);
    if (s.inTransit.from !== s.custodian) fw.put('gln', s.inTransit.from);
    fw.put('gln', s.inTransit.to);
    w.str(s.inTransit.shipment);
    fw.ref(s.inTransit.id);
  }
  if (s.containedIn !== null) w.str(s.containedIn);
  if (s.unpacked) fw.ref(s.unpacked.id);
  if (s.quarantined) {
    w.str(s.quarantined.case);
    fw.ref(s.quarantined.id);
  }
  if (d) {
    fw.ref(d.id);
    w.bits(reason < 0 ? 7 : reason, 3);
    if (reason < 0) w.str(d.reason);
    w.bit(d.actor === s.custodian);
    if (d.actor !== s.custodian) fw.put('gln', d.actor);
    w.bit(d.time === s.lastTime);
    if (d.time !== s.lastTime) fw.put('time', d.time);
    if (d.integratedAt !== undefined) fw.put('time', d.integratedAt);
  }
  if (p) {
    if (flags.productExplicit) {
      w.str(p.gtin);
      w.str(p.serial);
    }
    fw.put('ascii', p.lot);
    fw.put('date', p.expiry);
    if (p.details) {
      const keys = Object.keys(p.details).sort();
      w.uint(keys.length);
      for (const k of keys) {
        w.str(k);
        w.str(p.details[k]!);
      }
    }
  }
  return w.finish();
}

/**
 * Decodes what {@link encodeVerifiedState} wrote for `subject`. The state has
 * no children (the caller adds them).
 * @throws {StateCodecError} when the bytes are not a state this version wrote
 *   (unknown version, truncated, out-of-range field, trailing bytes).
 */
export function decodeVerifiedState(subject: string, bytes: Uint8Array): VerifiedState {
  return readVerifiedState(subject, bytes, false);
}

/**
 * What a logistic unit's answer judges of a unit packed inside it (DESIGN §7
 * step 6 for a unit still inside: decommissioned, expired, on hold, and that
 * it is still in its container), read from its stored state.
 */
export interface VerifiedStatus {
  headIndex: number;
  active: boolean;
  containedIn: string | null;
  /** whether the subject (a container) was unpacked */
  unpacked: boolean;
  /** `quarantined.case`, null when not on hold */
  quarantineCase: string | null;
  /** `decommission.reason`, null when not decommissioned */
  decommissionReason: string | null;
  product: { gtin: string; expiry: string } | null;
}

/**
 * The {@link VerifiedStatus} of what {@link encodeVerifiedState} wrote for
 * `subject`: the same fields decodeVerifiedState gives, without building the
 * ids, times and GLNs nothing judges (a pallet's answer reads 10,000 of them).
 * @throws {StateCodecError} on exactly the bytes decodeVerifiedState refuses.
 */
export function decodeVerifiedStatus(subject: string, bytes: Uint8Array): VerifiedStatus {
  return readVerifiedState(subject, bytes, true);
}

/** The {@link VerifiedStatus} of a decoded state (what decodeVerifiedStatus reads of its bytes). */
export function verifiedStatusOf(headIndex: number, s: ChainState): VerifiedStatus {
  return {
    headIndex,
    active: s.active,
    containedIn: s.containedIn,
    unpacked: s.unpacked !== null,
    quarantineCase: s.quarantined?.case ?? null,
    decommissionReason: s.decommission?.reason ?? null,
    product: s.product && { gtin: s.product.gtin, expiry: s.product.expiry },
  };
}

/** Stored field types a lean read passes over (their values are left empty). */
const LEAN_SKIPS: ReadonlySet<Typed> = new Set(['hash', 'time', 'gln', 'ascii']);

/** Reads typed fields (as strings when the state is raw); a lean one passes over LEAN_SKIPS. */
class FieldReader {
  constructor(
    readonly r: BitReader,
    private readonly raw: boolean,
    private readonly lean: boolean,
  ) {}

  get(t: Typed): string {
    if (this.raw) return this.r.str();
    if (!this.lean || !LEAN_SKIPS.has(t)) return typed[t].get(this.r);
    typed[t].skip(this.r);
    return '';
  }

  /** An id: one bit when it is the head's, else the id. */
  ref(head: string): string {
    return this.r.bit() ? head : this.get('hash');
  }
}

/** Each extended flag's bit: bit i of EXT from the most significant. */
const FLAG_BIT = Object.fromEntries(EXT.map((f, i) => [f, 1 << (EXT.length - 1 - i)])) as Record<
  ExtFlag,
  number
>;

function hasFlag(bits: number, f: ExtFlag): boolean {
  return (bits & FLAG_BIT[f]) !== 0;
}

/**
 * The decoder of both: a lean read leaves the ids, times, GLNs and the lot
 * empty (each still checked as its reader checks it), so both refuse the same
 * bytes, and gives the status only.
 */
function readVerifiedState(subject: string, bytes: Uint8Array, lean: true): VerifiedStatus;
function readVerifiedState(subject: string, bytes: Uint8Array, lean: false): VerifiedState;
function readVerifiedState(
  subject: string,
  bytes: Uint8Array,
  lean: boolean,
): VerifiedState | VerifiedStatus {
  const r = new BitReader(bytes);
  const version = r.bits(8);
  if (version !== VERIFIED_STATE_VERSION)
    throw new StateCodecError(
      `stored state has version ${version}, expected ${VERIFIED_STATE_VERSION}`,
    );
  const lastType = RECORD_TYPES[r.bits(4)];
  if (lastType === undefined) throw new StateCodecError('stored state has an unknown record type');
  const seqNonZero = r.bit();
  const ext = r.bit();
  const bits = ext ? r.bits(EXT.length) : 0;
  const fr = new FieldReader(r, hasFlag(bits, 'raw'), lean);
  const seq = seqNonZero ? r.uint() : 0;
  const headIndex = r.uint();
  const head = fr.get('hash');
  const lastTime = fr.get('time');
  const lastActor = fr.get('gln');
  const originator = hasFlag(bits, 'originatorDiffers') ? fr.get('gln') : lastActor;
  const custodian = hasFlag(bits, 'custodianDiffers') ? fr.get('gln') : lastActor;
  let inTransit: ChainState['inTransit'] = null;
  if (hasFlag(bits, 'inTransit')) {
    const from = r.bit() ? custodian : fr.get('gln');
    const to = fr.get('gln');
    const shipment = r.str();
    inTransit = { from, to, shipment, id: fr.ref(head) };
  }
  const containedIn = hasFlag(bits, 'containedIn') ? r.str() : null;
  const unpacked = hasFlag(bits, 'unpacked') ? { id: fr.ref(head) } : null;
  let quarantined: ChainState['quarantined'] = null;
  if (hasFlag(bits, 'quarantined')) {
    const c = r.str();
    quarantined = { case: c, id: fr.ref(head) };
  }
  let decommission: ChainState['decommission'] = null;
  if (hasFlag(bits, 'decommission')) {
    const id = fr.ref(head);
    const ri = r.bits(3);
    const reason = (ri === 7 ? r.str() : DECOMMISSION_REASONS[ri]) as DecommissionReason;
    if (reason === undefined) throw new StateCodecError('stored state has an unknown reason');
    const actor = r.bit() ? custodian : fr.get('gln');
    const time = r.bit() ? lastTime : fr.get('time');
    decommission = hasFlag(bits, 'noReceiptTime')
      ? { id, reason, actor, time }
      : { id, reason, actor, time, integratedAt: fr.get('time') };
  }
  const kindFlip = hasFlag(bits, 'kindFlip');
  const kind: ChainState['kind'] =
    derivedKind(subject) === 'unit'
      ? kindFlip
        ? 'container'
        : 'unit'
      : kindFlip
        ? 'unit'
        : 'container';
  let product: CommissionedProduct | null = null;
  if ((kind === 'unit') !== hasFlag(bits, 'productFlip')) {
    const explicit = hasFlag(bits, 'productExplicit');
    const derived = explicit ? null : derivedProduct(subject);
    if (!explicit && derived === null)
      throw new StateCodecError('stored product has no GTIN and serial, and the subject has none');
    const gtin = derived ? derived.gtin : r.str();
    const serial = derived ? derived.serial : r.str();
    const lot = fr.get('ascii');
    const expiry = fr.get('date');
    let details: Record<string, string> | undefined;
    if (hasFlag(bits, 'productDetails')) {
      details = {};
      for (let n = r.uint(); n > 0; n--) {
        const k = r.str();
        // defineProperty: a key such as __proto__ stays an own property
        Object.defineProperty(details, k, {
          value: r.str(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    product = details ? { gtin, serial, lot, expiry, details } : { gtin, serial, lot, expiry };
  }
  r.end();
  const active = !hasFlag(bits, 'inactive');
  if (lean)
    return {
      headIndex,
      active,
      containedIn,
      unpacked: unpacked !== null,
      quarantineCase: quarantined?.case ?? null,
      decommissionReason: decommission?.reason ?? null,
      product: product && { gtin: product.gtin, expiry: product.expiry },
    };
  return {
    headIndex,
    state: {
      subject,
      kind,
      seq,
      head,
      lastType,
      lastTime,
      lastActor,
      originator,
      active,
      custodian,
      inTransit,
      containedIn,
      children: NO_CHILDREN,
      unpacked,
      quarantined,
      decommission,
      product,
    },
  };
}
