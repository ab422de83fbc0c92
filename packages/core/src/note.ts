// Signed notes, log checkpoints and witness cosignatures (DESIGN §6):
//   c2sp.org/signed-note        text + blank line + "— <name> <base64(keyID || sig)>" lines
//   c2sp.org/tlog-checkpoint    origin / size / base64 root hash / extension lines
//   c2sp.org/tlog-cosignature   Ed25519 cosignature/v1 (signature type 0x04)
// Parsing follows golang.org/x/mod/sumdb/note and transparency-dev/formats,
// with stricter base64. Everything here is pure: timestamps are passed in.
import { bytesEqual, concatBytes, fromBase64, fromUtf8, toBase64, toHex, utf8 } from './bytes.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, publicKeyFromSeed, sign, verify } from './ed25519.js';
import type { Ed25519Backend } from './ed25519.js';
import { sha256 } from './hash.js';

/** signed-note §Signature types: 0x01, Ed25519 over the note text. */
export const SIG_TYPE_ED25519 = 0x01;
/** signed-note §Signature types: 0x04, timestamped Ed25519 cosignature (tlog-cosignature). */
export const SIG_TYPE_COSIGNATURE_V1 = 0x04;
/** Verifiers must accept at least 16 signatures (signed-note §Format); this is our cap, as Go's. */
export const MAX_NOTE_SIGNATURES = 100;

const KEY_ID_LENGTH = 4;
const TIMESTAMP_LENGTH = 8;
const SIG_PREFIX = '\u2014 '; // em dash, space (signed-note §Format)
const MAX_TIMESTAMP = (1n << 63n) - 1n; // tlog-cosignature §Format: timestamp MUST NOT exceed 2^63 - 1

/** Why a note, key or checkpoint could not be parsed or produced. */
export type NoteErrorCode =
  | 'MALFORMED_NOTE'
  | 'MALFORMED_CHECKPOINT'
  | 'MALFORMED_SIGNATURE_LINE'
  | 'INVALID_TEXT'
  | 'INVALID_NAME'
  | 'INVALID_VKEY'
  | 'VKEY_HASH_MISMATCH'
  | 'UNKNOWN_KEY_TYPE'
  | 'INVALID_KEY'
  | 'INVALID_TIMESTAMP';

/** Thrown by parsers on malformed input and by signers on misuse; `code` says which rule broke. */
export class NoteError extends Error {
  override readonly name = 'NoteError';
  constructor(
    readonly code: NoteErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Why a note or checkpoint did not verify (a return value, never thrown). */
export type NoteVerifyCode =
  | 'MALFORMED_NOTE'
  | 'MALFORMED_CHECKPOINT'
  | 'SIGNATURE_INVALID'
  | 'UNVERIFIED'
  | 'AMBIGUOUS_KEY'
  | 'LOG_SIGNATURE_MISSING'
  | 'ORIGIN_MISMATCH'
  | 'WITNESS_QUORUM_NOT_MET';

export type NoteKeyType = 'ed25519' | 'cosignature/v1';

/** An Ed25519 signing key with its note name. The seed is the 32-byte secret. */
export interface NoteSigner {
  name: string;
  seed: Uint8Array;
}

/** A trusted verifier key: name, 4-byte key ID, raw 32-byte Ed25519 public key and signature type. */
export interface NoteVerifierKey {
  name: string;
  keyId: Uint8Array;
  publicKey: Uint8Array;
  type: NoteKeyType;
}

/** One signature line of a note, as parsed (not yet verified). */
export interface NoteSignature {
  name: string;
  /** The 4-byte key ID (signed-note: big-endian uint32). */
  keyId: Uint8Array;
  /** The bytes after the key ID: an Ed25519 signature, or timestamp || signature for cosignature/v1. */
  signature: Uint8Array;
  /** The full line without its newline, e.g. "— name base64". */
  raw: string;
}

export interface ParsedNote {
  /** The note text, including its final newline but not the blank line. */
  text: string;
  signatures: NoteSignature[];
}

/** A signature that verified under a trusted key. */
export interface VerifiedSignature {
  name: string;
  keyId: Uint8Array;
  type: NoteKeyType;
  /** cosignature/v1 only: the witness's POSIX timestamp (seconds). */
  timestamp?: number;
}

export type NoteVerifyResult =
  | { ok: true; text: string; verifiedBy: string[]; signatures: VerifiedSignature[] }
  | { ok: false; code: NoteVerifyCode; detail: string };

/** tlog-checkpoint §Note text. */
export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions: string[];
}

export type CheckpointVerifyResult =
  | {
      ok: true;
      checkpoint: Checkpoint;
      /** Text the log signed (the checkpoint body). */
      text: string;
      /** Names of the trusted witnesses whose cosignatures verified. */
      witnesses: string[];
      cosignatures: { name: string; timestamp: number }[];
    }
  | { ok: false; code: NoteVerifyCode; detail: string };

// Go's unicode.IsSpace: ASCII spaces, U+0085, U+00A0 and the Unicode Z categories.
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
// Lone surrogates cannot be encoded as UTF-8, so a note holding one is not valid UTF-8.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// signed-note §Format: no ASCII control characters other than newline.
const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;

/** signed-note §Format: key names are non-empty, with no Unicode spaces and no '+'. */
export function isValidNoteName(name: string): boolean {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    !SPACE.test(name) &&
    !name.includes('+') &&
    !CONTROL.test(name) &&
    !LONE_SURROGATE.test(name)
  );
}

function isValidNoteText(text: string): boolean {
  return !CONTROL.test(text) && !LONE_SURROGATE.test(text);
}

function assertName(name: string): void {
  if (!isValidNoteName(name))
    throw new NoteError('INVALID_NAME', `invalid note key name ${JSON.stringify(name)}`);
}

function typeByte(type: NoteKeyType): number {
  return type === 'ed25519' ? SIG_TYPE_ED25519 : SIG_TYPE_COSIGNATURE_V1;
}

/**
 * signed-note key ID: SHA-256(name || 0x0A || sigType || publicKey)[:4].
 * @throws NoteError INVALID_NAME for a name the format cannot carry.
 */
export function noteKeyId(name: string, publicKey: Uint8Array, sigType: number): Uint8Array {
  assertName(name);
  return sha256(concatBytes(utf8(name), Uint8Array.of(0x0a, sigType), publicKey)).slice(
    0,
    KEY_ID_LENGTH,
  );
}

/**
 * Builds a trusted verifier key from a name and a raw 32-byte Ed25519 public key.
 * @throws NoteError INVALID_NAME / INVALID_KEY.
 */
export function noteVerifierKey(
  name: string,
  publicKey: Uint8Array,
  type: NoteKeyType = 'ed25519',
): NoteVerifierKey {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH)
    throw new NoteError('INVALID_KEY', `public key must be ${PUBLIC_KEY_LENGTH} bytes`);
  return {
    name,
    keyId: noteKeyId(name, publicKey, typeByte(type)),
    publicKey: publicKey.slice(),
    type,
  };
}

/**
 * Encodes a verifier key as `<name>+<hex key ID>+<base64(type || publicKey)>`
 * (signed-note §Verifier keys; tlog-cosignature uses type 0x04).
 * @throws NoteError INVALID_NAME / INVALID_KEY.
 */
export function encodeVerifierKey(
  name: string,
  publicKey: Uint8Array,
  type: NoteKeyType = 'ed25519',
): string {
  const key = noteVerifierKey(name, publicKey, type);
  return `${name}+${toHex(key.keyId)}+${toBase64(concatBytes(Uint8Array.of(typeByte(type)), publicKey))}`;
}

/**
 * Parses a verifier key string (`name+hexid+base64`), checking that the key
 * ID matches the name and key. Types 0x01 (Ed25519) and 0x04 (cosignature/v1).
 * @throws NoteError INVALID_VKEY / VKEY_HASH_MISMATCH / UNKNOWN_KEY_TYPE / INVALID_KEY.
 */
export function parseVerifierKey(vkey: string): NoteVerifierKey {
  if (typeof vkey !== 'string')
    throw new NoteError('INVALID_VKEY', 'verifier key must be a string');
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) throw new NoteError('INVALID_VKEY', 'verifier key needs name+keyid+key');
  const name = vkey.slice(0, first);
  const hash16 = vkey.slice(first + 1, second);
  const keyBytes = fromBase64(vkey.slice(second + 1));
  if (
    !isValidNoteName(name) ||
    !/^[0-9a-fA-F]{8}$/.test(hash16) ||
    !keyBytes ||
    keyBytes.length === 0
  )
    throw new NoteError('INVALID_VKEY', 'malformed verifier key');
  const keyId = sha256(concatBytes(utf8(name), Uint8Array.of(0x0a), keyBytes)).slice(
    0,
    KEY_ID_LENGTH,
  );
  if (toHex(keyId) !== hash16.toLowerCase())
    throw new NoteError('VKEY_HASH_MISMATCH', 'verifier key ID does not match its name and key');
  const type =
    keyBytes[0] === SIG_TYPE_ED25519
      ? 'ed25519'
      : keyBytes[0] === SIG_TYPE_COSIGNATURE_V1
        ? 'cosignature/v1'
        : null;
  if (!type)
    throw new NoteError(
      'UNKNOWN_KEY_TYPE',
      `unsupported signature type 0x${toHex(keyBytes.slice(0, 1))}`,
    );
  if (keyBytes.length !== 1 + PUBLIC_KEY_LENGTH)
    throw new NoteError('INVALID_KEY', `Ed25519 key must be ${PUBLIC_KEY_LENGTH} bytes`);
  return { name, keyId, publicKey: keyBytes.slice(1), type };
}

function signatureLine(name: string, payload: Uint8Array): string {
  return `${SIG_PREFIX}${name} ${toBase64(payload)}\n`;
}

/** Parses one signature line (without its newline). Returns null when malformed. */
function parseSignatureLine(line: string): NoteSignature | null {
  if (!line.startsWith(SIG_PREFIX)) return null;
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) return null;
  const name = rest.slice(0, space);
  const b64 = rest.slice(space + 1);
  const bytes = b64 === '' ? null : fromBase64(b64);
  if (!isValidNoteName(name) || !bytes || bytes.length < KEY_ID_LENGTH + 1) return null;
  return {
    name,
    keyId: bytes.slice(0, KEY_ID_LENGTH),
    signature: bytes.slice(KEY_ID_LENGTH),
    raw: line,
  };
}

function asText(note: string | Uint8Array): string | null {
  if (typeof note === 'string') return note;
  if (note instanceof Uint8Array) return fromUtf8(note);
  return null;
}

/**
 * Splits a signed note into its text and signature lines (signed-note
 * §Format); verifies nothing. Input is attacker-controlled.
 * @throws NoteError MALFORMED_NOTE for anything not in the format (and only that).
 */
export function parseSignedNote(note: string | Uint8Array): ParsedNote {
  const msg = asText(note);
  if (msg === null) throw new NoteError('MALFORMED_NOTE', 'note is not valid UTF-8');
  if (!isValidNoteText(msg))
    throw new NoteError('MALFORMED_NOTE', 'note holds control characters or invalid UTF-8');
  // The text ends at the last blank line; signatures follow it.
  const split = msg.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('MALFORMED_NOTE', 'no blank line before the signatures');
  const text = msg.slice(0, split + 1);
  const block = msg.slice(split + 2);
  if (block === '' || !block.endsWith('\n'))
    throw new NoteError('MALFORMED_NOTE', 'signature block must end in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES)
    throw new NoteError('MALFORMED_NOTE', `more than ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures = lines.map((line, i) => {
    const sig = parseSignatureLine(line);
    if (!sig) throw new NoteError('MALFORMED_NOTE', `signature line ${i + 1} is malformed`);
    return sig;
  });
  return { text, signatures };
}

function assertText(text: string): void {
  if (typeof text !== 'string' || !text.endsWith('\n') || !isValidNoteText(text))
    throw new NoteError(
      'INVALID_TEXT',
      'note text must end in a newline and hold no control characters',
    );
}

/**
 * Signs `text` with each Ed25519 signer (signature type 0x01) and returns the
 * signed note: text, blank line, one signature line per signer.
 * @throws NoteError INVALID_TEXT / INVALID_NAME; Ed25519Error for a bad seed.
 */
export function signNote(
  text: string,
  signers: readonly NoteSigner[],
  backend?: Ed25519Backend,
): string {
  assertText(text);
  if (signers.length === 0) throw new NoteError('INVALID_NAME', 'at least one signer is required');
  const message = utf8(text);
  let out = `${text}\n`;
  for (const s of signers) {
    assertName(s.name);
    const keyId = noteKeyId(s.name, publicKeyFromSeed(s.seed, backend), SIG_TYPE_ED25519);
    out += signatureLine(s.name, concatBytes(keyId, sign(message, s.seed, backend)));
  }
  return out;
}

/** tlog-cosignature §Ed25519 signed message: header, time line, then the whole note text. */
function cosignatureMessage(timestamp: bigint, text: string): Uint8Array {
  return utf8(`cosignature/v1\ntime ${timestamp.toString()}\n${text}`);
}

function readUint64(bytes: Uint8Array, offset: number): bigint {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(bytes[offset + i]!);
  return v;
}

function uint64(v: number): Uint8Array {
  const out = new Uint8Array(TIMESTAMP_LENGTH);
  let x = BigInt(v);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** Checks one signature against a matching key; returns the timestamp for cosignatures, or null if invalid. */
function checkSignature(
  key: NoteVerifierKey,
  text: string,
  sig: Uint8Array,
  backend: Ed25519Backend | undefined,
): { valid: true; timestamp?: number } | { valid: false } {
  if (key.type === 'ed25519') {
    return verify(sig, utf8(text), key.publicKey, backend) ? { valid: true } : { valid: false };
  }
  if (sig.length !== TIMESTAMP_LENGTH + SIGNATURE_LENGTH) return { valid: false };
  const t = readUint64(sig, 0);
  if (t > MAX_TIMESTAMP) return { valid: false };
  const ok = verify(
    sig.slice(TIMESTAMP_LENGTH),
    cosignatureMessage(t, text),
    key.publicKey,
    backend,
  );
  return ok ? { valid: true, timestamp: Number(t) } : { valid: false };
}

function sameKey(
  a: { name: string; keyId: Uint8Array },
  b: { name: string; keyId: Uint8Array },
): boolean {
  return a.name === b.name && bytesEqual(a.keyId, b.keyId);
}

/**
 * Verifies a signed note against trusted keys (signed-note §Signatures):
 * signatures from unknown keys (name or key ID differ) are ignored; every
 * signature from a known key must verify, or the whole note is rejected;
 * at least one must verify. cosignature/v1 keys check the timestamped
 * message. Never throws.
 */
export function verifyNote(
  note: string | Uint8Array,
  keys: readonly NoteVerifierKey[],
  backend?: Ed25519Backend,
): NoteVerifyResult {
  let parsed: ParsedNote;
  try {
    parsed = parseSignedNote(note);
  } catch (e) {
    return {
      ok: false,
      code: 'MALFORMED_NOTE',
      detail: e instanceof Error ? e.message : 'malformed note',
    };
  }
  const verified: VerifiedSignature[] = [];
  try {
    for (const sig of parsed.signatures) {
      const matches = keys.filter((k) => sameKey(k, sig));
      if (matches.length === 0) continue;
      // Two trusted keys with one name and key ID: the configuration is broken (as Go's ambiguous key).
      if (matches.length > 1)
        return {
          ok: false,
          code: 'AMBIGUOUS_KEY',
          detail: `several trusted keys are ${sig.name}+${toHex(sig.keyId)}`,
        };
      const key = matches[0]!;
      const r = checkSignature(key, parsed.text, sig.signature, backend);
      if (!r.valid)
        return {
          ok: false,
          code: 'SIGNATURE_INVALID',
          detail: `invalid signature for key ${sig.name}+${toHex(sig.keyId)}`,
        };
      if (!verified.some((v) => sameKey(v, key)))
        verified.push({
          name: key.name,
          keyId: key.keyId,
          type: key.type,
          ...(r.timestamp !== undefined ? { timestamp: r.timestamp } : {}),
        });
    }
  } catch {
    // Only reachable with malformed trusted keys passed in by the caller.
    return { ok: false, code: 'SIGNATURE_INVALID', detail: 'a trusted key could not be used' };
  }
  if (verified.length === 0)
    return { ok: false, code: 'UNVERIFIED', detail: 'no signature from a trusted key' };
  return {
    ok: true,
    text: parsed.text,
    verifiedBy: verified.map((v) => v.name),
    signatures: verified,
  };
}

const SIZE_LINE = /^(0|[1-9][0-9]*)$/;

/**
 * Formats a checkpoint body (tlog-checkpoint §Note text): origin, decimal
 * size, base64 root hash and any extension lines, each newline-terminated.
 * @throws NoteError MALFORMED_CHECKPOINT for values the format cannot carry.
 */
export function formatCheckpoint(cp: Checkpoint): string {
  const bad = (why: string) => new NoteError('MALFORMED_CHECKPOINT', why);
  if (
    typeof cp.origin !== 'string' ||
    cp.origin === '' ||
    cp.origin.includes('\n') ||
    !isValidNoteText(cp.origin)
  )
    throw bad('origin must be a non-empty line');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0)
    throw bad('size must be a non-negative safe integer');
  if (!(cp.rootHash instanceof Uint8Array) || cp.rootHash.length !== 32)
    throw bad('root hash must be 32 bytes');
  const extensions = cp.extensions ?? [];
  for (const e of extensions)
    if (typeof e !== 'string' || e === '' || e.includes('\n') || !isValidNoteText(e))
      throw bad('extension lines must be non-empty lines');
  return [cp.origin, String(cp.size), toBase64(cp.rootHash), ...extensions]
    .map((l) => `${l}\n`)
    .join('');
}

/**
 * Parses a checkpoint body strictly (tlog-checkpoint §Note text): non-empty
 * origin; size in decimal without leading zeros (and at most 2^53 - 1); root
 * hash as 32 bytes of padded standard base64; non-empty extension lines.
 * @throws NoteError MALFORMED_CHECKPOINT (and nothing else) on bad input.
 */
export function parseCheckpoint(body: string): Checkpoint {
  const bad = (why: string) => new NoteError('MALFORMED_CHECKPOINT', why);
  if (typeof body !== 'string' || !body.endsWith('\n'))
    throw bad('checkpoint body must end in a newline');
  if (!isValidNoteText(body)) throw bad('checkpoint holds control characters or invalid UTF-8');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw bad('checkpoint needs origin, size and root hash lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [
    string,
    string,
    string,
    ...string[],
  ];
  if (origin === '') throw bad('empty origin');
  if (!SIZE_LINE.test(sizeLine)) throw bad('size is not a decimal without leading zeros');
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw bad('size beyond 2^53 - 1 is not supported');
  const rootHash = fromBase64(rootLine);
  if (!rootHash || rootHash.length !== 32) throw bad('root hash is not 32 bytes of base64');
  if (extensions.some((e) => e === '')) throw bad('empty extension line');
  return { origin, size, rootHash, extensions };
}

/**
 * Formats and signs a checkpoint with the log's Ed25519 key: a complete
 * signed note (DESIGN §6). The key name SHOULD equal the origin (tlog-checkpoint §Signatures).
 * @throws NoteError MALFORMED_CHECKPOINT / INVALID_NAME.
 */
export function signCheckpoint(
  cp: Checkpoint,
  signer: NoteSigner,
  backend?: Ed25519Backend,
): string {
  return signNote(formatCheckpoint(cp), [signer], backend);
}

/** The checkpoint body of a signed note or of a bare body, validated as a checkpoint. */
function checkpointText(noteOrBody: string): string {
  if (typeof noteOrBody !== 'string')
    throw new NoteError('MALFORMED_CHECKPOINT', 'checkpoint must be a string');
  // A checkpoint body has no empty lines, so a blank line means a signed note.
  const text = noteOrBody.includes('\n\n') ? parseSignedNote(noteOrBody).text : noteOrBody;
  parseCheckpoint(text);
  return text;
}

/**
 * Cosigns a checkpoint as a witness (tlog-cosignature/v1, type 0x04): signs
 * "cosignature/v1\ntime <timestamp>\n" + the checkpoint body, and returns the
 * signature line `— <name> base64(keyID || timestamp || signature)\n`, ready
 * to append to the signed checkpoint. The caller attests it checked
 * consistency first; `timestamp` is POSIX seconds, passed in (no clock here).
 * @throws NoteError MALFORMED_CHECKPOINT / MALFORMED_NOTE / INVALID_NAME / INVALID_TIMESTAMP.
 */
export function cosignCheckpoint(
  noteOrBody: string,
  witness: NoteSigner,
  timestamp: number,
  backend?: Ed25519Backend,
): string {
  assertName(witness.name);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw new NoteError('INVALID_TIMESTAMP', 'timestamp must be non-negative integer seconds');
  const text = checkpointText(noteOrBody);
  const keyId = noteKeyId(
    witness.name,
    publicKeyFromSeed(witness.seed, backend),
    SIG_TYPE_COSIGNATURE_V1,
  );
  const sig = sign(cosignatureMessage(BigInt(timestamp), text), witness.seed, backend);
  return signatureLine(witness.name, concatBytes(keyId, uint64(timestamp), sig));
}

/**
 * Verifies one cosignature line (with or without its newline) from `witness`
 * over a checkpoint (signed note or bare body). Never throws.
 */
export function verifyCosignature(
  noteOrBody: string,
  line: string,
  witness: NoteVerifierKey,
  backend?: Ed25519Backend,
):
  | { ok: true; timestamp: number }
  | {
      ok: false;
      code: 'MALFORMED_CHECKPOINT' | 'MALFORMED_NOTE' | 'UNVERIFIED' | 'SIGNATURE_INVALID';
      detail: string;
    } {
  let text: string;
  try {
    text = checkpointText(noteOrBody);
  } catch (e) {
    const code =
      e instanceof NoteError && e.code === 'MALFORMED_NOTE'
        ? 'MALFORMED_NOTE'
        : 'MALFORMED_CHECKPOINT';
    return { ok: false, code, detail: e instanceof Error ? e.message : 'malformed checkpoint' };
  }
  const sig =
    typeof line === 'string'
      ? parseSignatureLine(line.endsWith('\n') ? line.slice(0, -1) : line)
      : null;
  if (!sig || !isValidNoteText(line))
    return { ok: false, code: 'MALFORMED_NOTE', detail: 'malformed signature line' };
  if (witness?.type !== 'cosignature/v1' || !sameKey(witness, sig))
    return { ok: false, code: 'UNVERIFIED', detail: 'line is not from this cosignature/v1 key' };
  try {
    const r = checkSignature(witness, text, sig.signature, backend);
    if (r.valid && r.timestamp !== undefined) return { ok: true, timestamp: r.timestamp };
  } catch {
    // fall through: an unusable key is an invalid signature
  }
  return { ok: false, code: 'SIGNATURE_INVALID', detail: 'cosignature does not verify' };
}

/**
 * Appends signature lines (e.g. witness cosignatures) to a signed note,
 * dropping lines already present. Verifies nothing.
 * @throws NoteError MALFORMED_NOTE / MALFORMED_SIGNATURE_LINE.
 */
export function addSignatureLines(note: string, lines: readonly string[]): string {
  const parsed = parseSignedNote(note);
  const have = new Set(parsed.signatures.map((s) => s.raw));
  let out = note;
  for (const l of lines) {
    const line = l.endsWith('\n') ? l.slice(0, -1) : l;
    if (!isValidNoteText(line) || !parseSignatureLine(line))
      throw new NoteError('MALFORMED_SIGNATURE_LINE', 'not a note signature line');
    if (have.has(line)) continue;
    have.add(line);
    out += `${line}\n`;
  }
  parseSignedNote(out); // still within the signature cap
  return out;
}

/**
 * Verifies a signed checkpoint (DESIGN §6): the log key's signature must be
 * present and valid, the body must parse as a checkpoint, the origin must
 * equal `opts.origin` when given, and at least `opts.minWitnesses` (default
 * 0) distinct trusted witnesses must have valid cosignatures. Signatures
 * from unknown keys are ignored; an invalid one from a known key rejects the
 * note. Never throws.
 */
export function verifyCheckpoint(
  note: string | Uint8Array,
  logKey: NoteVerifierKey,
  opts: {
    witnesses?: readonly NoteVerifierKey[];
    minWitnesses?: number;
    origin?: string;
    backend?: Ed25519Backend;
  } = {},
): CheckpointVerifyResult {
  const witnesses = opts.witnesses ?? [];
  const min = opts.minWitnesses ?? 0;
  const r = verifyNote(note, [logKey, ...witnesses], opts.backend);
  if (!r.ok) {
    if (r.code === 'UNVERIFIED')
      return { ok: false, code: 'LOG_SIGNATURE_MISSING', detail: r.detail };
    return r;
  }
  if (!r.signatures.some((s) => sameKey(s, logKey)))
    return {
      ok: false,
      code: 'LOG_SIGNATURE_MISSING',
      detail: `no signature by the log key ${logKey.name}`,
    };
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(r.text);
  } catch (e) {
    return {
      ok: false,
      code: 'MALFORMED_CHECKPOINT',
      detail: e instanceof Error ? e.message : 'malformed checkpoint',
    };
  }
  if (opts.origin !== undefined && checkpoint.origin !== opts.origin)
    return {
      ok: false,
      code: 'ORIGIN_MISMATCH',
      detail: `origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(opts.origin)}`,
    };
  const cosigned = r.signatures.filter(
    (s) => !sameKey(s, logKey) && witnesses.some((w) => sameKey(w, s)),
  );
  if (!(Number.isInteger(min) && min >= 0) || cosigned.length < min)
    return {
      ok: false,
      code: 'WITNESS_QUORUM_NOT_MET',
      detail: `${cosigned.length} of ${witnesses.length} witnesses cosigned; policy needs ${String(min)}`,
    };
  return {
    ok: true,
    checkpoint,
    text: r.text,
    witnesses: cosigned.map((s) => s.name),
    cosignatures: cosigned
      .filter((s) => s.timestamp !== undefined)
      .map((s) => ({ name: s.name, timestamp: s.timestamp! })),
  };
}
