// RFC 3986 percent-encoding as DESIGN §3 requires for serials in canonical
// subjects and values in Digital Link paths: everything but the unreserved set
// (ALPHA / DIGIT / "-" / "." / "_" / "~", RFC 3986 §2.3) is encoded.

import { Gs1Error } from './errors.js';

/** encodeURIComponent that also escapes !'()* (so only RFC 3986 unreserved characters remain). */
export function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/**
 * Percent-decodes a URI component (UTF-8).
 * @throws Gs1Error with `code` when the escapes are malformed (attacker-controlled input).
 */
export function decodePercent(
  value: string,
  code: 'BAD_DIGITAL_LINK' | 'BAD_EPC_URI' | 'BAD_SUBJECT',
  ai?: string,
): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new Gs1Error(code, `malformed percent-encoding in ${JSON.stringify(value)}`, ai);
  }
}
