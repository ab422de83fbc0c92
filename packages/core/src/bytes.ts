// Byte helpers shared by every module: encodings used on the wire (DESIGN §4)
// and a constant-time comparison for digests and signatures. Portable: no
// Buffer, so the same code runs in a browser.

const HEX = '0123456789abcdef';

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return out;
}

/** Parses hex (either case); returns null when `text` is not even-length hex. */
export function fromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// Decoding table by char code: the 6-bit value, or -1 for characters outside the
// alphabet. Index 128 covers every non-ASCII code unit. One table for both
// alphabets; callers check which alphabet they accept.
const B64_VALUE = new Int8Array(129).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUE[B64.charCodeAt(i)] = i;
B64_VALUE['-'.charCodeAt(0)] = 62;
B64_VALUE['_'.charCodeAt(0)] = 63;

/** Standard base64 with padding (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? B64[n & 63]! : '=';
  }
  return out;
}

/** base64url without padding (RFC 4648 §5), the form keys take in JSON (DESIGN §8a). */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Strict standard base64 (RFC 4648 §4): padding required, no whitespace, and
 * unused trailing bits must be zero so every byte string has one encoding.
 * Returns null for anything else; attacker-controlled input lands here.
 */
export function fromBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === 61) end--; // '='
  if (end > 0 && text.charCodeAt(end - 1) === 61) end--;
  return decodeBase64Chars(text, end, false);
}

/**
 * Base64 as DSSE envelopes carry it: the DSSE spec allows standard or URL-safe
 * encoding and says consumers accept either. Standard with padding, or
 * URL-safe with or without it; each still strict (one spelling per alphabet).
 */
export function fromDsseBase64(text: string): Uint8Array | null {
  return (
    fromBase64(text) ?? fromBase64Url(text.length % 4 === 0 ? text.replace(/={1,2}$/, '') : text)
  );
}

/** Strict base64url without padding (RFC 4648 §5); returns null for anything else. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (text.length % 4 === 1) return null;
  return decodeBase64Chars(text, text.length, true);
}

/** Decodes text[0, end) in one alphabet; null on any other character. */
function decodeBase64Chars(text: string, end: number, url: boolean): Uint8Array | null {
  if (end % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    const value = B64_VALUE[code < 128 ? code : 128]!;
    if (value < 0) return null;
    // '+' and '/' belong to standard base64 only, '-' and '_' to base64url only.
    if (url ? code === 43 || code === 47 : code === 45 || code === 95) return null;
    acc = ((acc << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  // Non-zero leftover bits would give a second encoding of the same bytes.
  if ((acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, returning null for malformed input rather than replacing it. */
export function fromUtf8(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Constant-time equality for digests and signatures (STYLE rule 4). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
