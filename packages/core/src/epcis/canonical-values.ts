// Value canonicalisation of the EPCIS 2.0 / CBV 2.0 event hash (CBV §8.9.2),
// as the reference generator (RalphTro/epcis-event-hash-generator) applies it
// to every value: CBV URNs become web vocabulary URIs, numbers lose their
// formatting, GS1 identifiers become canonical Digital Link URIs; time values
// become UTC with millisecond precision.
import { CANONICAL_DL_HOST, Gs1Error, epcToDigitalLink } from '@provenant/gs1';

const CBV = 'https://ref.gs1.org/cbv/';

// CBV 2.0 §7: the URN form of a standard vocabulary element and its web URI.
const CBV_URNS: readonly (readonly [string, string])[] = [
  ['urn:epcglobal:cbv:bizstep:', `${CBV}BizStep-`],
  ['urn:epcglobal:cbv:disp:', `${CBV}Disp-`],
  ['urn:epcglobal:cbv:btt:', `${CBV}BTT-`],
  ['urn:epcglobal:cbv:sdt:', `${CBV}SDT-`],
  ['urn:epcglobal:cbv:er:', `${CBV}ER-`],
];

function webVocabulary(text: string): string {
  let out = text;
  for (const [urn, web] of CBV_URNS) out = out.split(urn).join(web);
  return out;
}

// Python's float() syntax (the reference's "is it a number" test): optional
// sign, digits with single underscores, optional fraction and exponent.
const PY_FLOAT =
  /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;

/** Python `repr` of a finite double: shortest round-trip digits, exponent form outside 1e-4..1e16. */
function pythonRepr(x: number): string {
  const [mantissa, exp] = x.toExponential().split('e') as [string, string];
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace(/^-/, '').replace('.', '');
  const e = Number(exp);
  let body: string;
  if (e >= -4 && e < 16) {
    if (e < 0) body = '0.' + '0'.repeat(-e - 1) + digits;
    else {
      const int = digits.slice(0, e + 1).padEnd(e + 1, '0');
      const frac = digits.slice(e + 1);
      body = int + '.' + (frac === '' ? '0' : frac);
    }
  } else {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return (negative ? '-' : '') + body;
}

/** The reference's number form: integral values as exact integers, others as Python's repr. */
export function canonicalNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return BigInt(x).toString();
  return pythonRepr(x);
}

function numeric(text: string): string {
  if (!PY_FLOAT.test(text)) return text;
  return canonicalNumber(Number(text.replace(/_/g, '')));
}

// GS1 Digital Link primary keys in a path, numeric or short name (DL 1.2 §6).
const DL_KEYS =
  '01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai';
const DL_LIKE = new RegExp(String.raw`^https?:(?://[^/?#]*)?[^?#]*/(?:${DL_KEYS})/\d{4}[^/]+`);
const SHORT_NAMES: readonly (readonly [string, string])[] = [
  ['gtin', '01'],
  ['itip', '8006'],
  ['cpid', '8010'],
  ['gln', '414'],
  ['party', '417'],
  ['gsrnp', '8017'],
  ['gsrn', '8018'],
  ['gcn', '255'],
  ['sscc', '00'],
  ['gdti', '253'],
  ['ginc', '401'],
  ['gsin', '402'],
  ['grai', '8003'],
  ['giai', '8004'],
  ['cpv', '22'],
  ['lot', '10'],
  ['ser', '21'],
];
// Keys in the order the reference looks for them when it rebases a URI on id.gs1.org.
const REBASE_KEYS = [
  '00',
  '01',
  '253',
  '255',
  '401',
  '402',
  '414',
  '417',
  '8003',
  '8004',
  '8006',
  '8010',
  '8017',
  '8018',
];
const CANONICAL_KEYED = new RegExp(
  String.raw`^https://id\.gs1\.org/(?:01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)/\d{4}`,
);
// GS1 AI encodable characters the reference admits in a canonical DL value (no "%").
const V = String.raw`[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]`;
const H = 'https://id\\.gs1\\.org';
const VALID_DL: readonly RegExp[] = [
  String.raw`${H}/00/\d{18}`,
  String.raw`${H}/01/\d{14}/21/${V}{0,20}`,
  String.raw`${H}/01/\d{14}/10/${V}{0,20}`,
  String.raw`${H}/01/\d{14}`,
  String.raw`${H}/01/\d{14}/235/${V}{0,28}`,
  String.raw`${H}/253/\d{13}${V}{0,17}`,
  String.raw`${H}/255/\d{13}\d{0,12}`,
  String.raw`${H}/401/${V}{0,30}`,
  String.raw`${H}/402/\d{17}`,
  String.raw`${H}/414/\d{13}`,
  String.raw`${H}/414/\d{13}/254/${V}{0,20}`,
  String.raw`${H}/417/\d{13}`,
  String.raw`${H}/8003/\d{14}${V}{0,16}`,
  String.raw`${H}/8004/${V}{0,30}`,
  String.raw`${H}/8006/\d{18}/21/${V}{0,20}`,
  String.raw`${H}/8006/\d{18}/10/${V}{0,20}`,
  String.raw`${H}/8006/\d{18}`,
  String.raw`${H}/8010/[\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30}/8011/\d{0,12}`,
  String.raw`${H}/8010/[\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30}`,
  String.raw`${H}/8017/\d{18}`,
  String.raw`${H}/8018/\d{18}`,
].map((p) => new RegExp(`^${p}$`));

/**
 * Constrains a GS1 Digital Link URI on any host to the hash's canonical form:
 * host id.gs1.org, numeric AIs, no query, no CPV, GTIN-14, serial rather
 * than lot. Undefined when the URI is no Digital Link of a GS1 key.
 */
export function canonicalDigitalLink(uri: string): string | undefined {
  if (!DL_LIKE.test(uri)) return undefined;
  let out = uri.includes('?') ? uri.slice(0, uri.indexOf('?')) : uri;
  for (const [name, ai] of SHORT_NAMES) out = out.split(`/${name}/`).join(`/${ai}/`);
  if (!CANONICAL_KEYED.test(out)) {
    const key = REBASE_KEYS.find((k) => out.includes(`/${k}/`));
    if (key !== undefined) out = CANONICAL_DL_HOST + out.slice(out.indexOf(`/${key}/`));
  }
  const gtin = /^https:\/\/id\.gs1\.org\/01\/(\d+)/.exec(out);
  if (gtin && [8, 12, 13].includes(gtin[1]!.length)) {
    out = out.replace('/01/', '/01/' + '0'.repeat(14 - gtin[1]!.length));
  }
  out = out.replace(new RegExp(String.raw`^(${H}/(?:01/\d{14}|8006/\d{18}))/22/[^/]*`), '$1');
  out = out.replace(
    new RegExp(String.raw`^(${H}/(?:01/\d{14}|8006/\d{18}))/10/${V}{0,20}(/21/${V}{0,20})$`),
    '$1$2',
  );
  return VALID_DL.some((re) => re.test(out)) ? out : undefined;
}

function canonicalIdentifier(text: string): string | undefined {
  if (text.startsWith('urn:epc:')) {
    try {
      return epcToDigitalLink(text);
    } catch (e) {
      if (e instanceof Gs1Error) return undefined;
      throw e;
    }
  }
  return canonicalDigitalLink(text);
}

/** A value as the hash writes it: vocabulary URI, number, or GS1 identifier canonicalised. */
export function canonicalValue(text: string): string {
  const value = numeric(webVocabulary(text));
  return canonicalIdentifier(value) ?? value;
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * A dateTime in UTC at millisecond precision with `Z` (CBV §8.9.2); the
 * fourth decimal rounds half up. Text that is no ISO 8601 dateTime is kept.
 */
export function canonicalTime(text: string): string {
  const m = ISO_TIME.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as string[];
  const digits = (frac ?? '').padEnd(4, '0');
  const ms = Number(digits.slice(0, 3)) + (Number(digits[3]) >= 5 ? 1 : 0);
  let offsetMin = 0;
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const hm = zone.slice(1).replace(':', '');
    offsetMin = sign * (Number(hm.slice(0, 2)) * 60 + Number(hm.slice(2, 4) || '0'));
  }
  // setUTCFullYear, unlike Date.UTC, takes years 0-99 as written.
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  // No rolling over: 30 February or hour 24 is no dateTime, so the text stays.
  if (date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) return text;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? '0') > 59) return text;
  date.setUTCHours(Number(h), Number(mi) - offsetMin, Number(s ?? '0'), ms);
  if (Number.isNaN(date.getTime())) return text;
  return date.toISOString();
}
