// Local (non-custodial) signing (DESIGN §4, §8 "Two ways to sign"): the
// record is validated, canonicalised (JCS) and signed into a DSSE envelope on
// the caller's machine; only the envelope goes to the server, never the seed.
import {
  encodeRecord,
  fromDsseBase64,
  fromBase64Url,
  generateKeyPair,
  keyId,
  nobleBackend,
  publicKeyFromSeed,
  recordIdFromPayload,
  recordSchema,
  RECORD_PAYLOAD_TYPE,
  signEnvelope,
  toBase64Url,
  type CustodyRecord,
  type Ed25519Backend,
  type Envelope,
} from '@provenant/core';

export type SigningErrorCode = 'INVALID_RECORD' | 'KID_MISMATCH' | 'INVALID_KEY';

/** Misuse of the signing helpers: a record that is not a valid record, or a key that is not a key. */
export class SigningError extends Error {
  override readonly name = 'SigningError';
  constructor(
    readonly code: SigningErrorCode,
    message: string,
    /** For INVALID_RECORD: each violated rule with its field path. */
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** A signing key as the CLI's key file holds it: seed and public key base64url (no padding), kid hex. */
export interface KeyFile {
  seed: string;
  publicKey: string;
  kid: string;
}

/** A fresh Ed25519 key, encoded for a key file (DESIGN §4 kid). */
export function generateKey(
  backend: Ed25519Backend = nobleBackend,
): KeyFile & { seedBytes: Uint8Array } {
  const { seed, publicKey } = generateKeyPair(backend);
  return {
    seed: toBase64Url(seed),
    seedBytes: seed,
    publicKey: toBase64Url(publicKey),
    kid: keyId(publicKey),
  };
}

/**
 * Reads a key file's JSON value: the seed must be base64url of 32 bytes and,
 * when given, publicKey and kid must match it (a mismatched file is refused
 * rather than signing under a kid that is not the key's).
 * @throws {SigningError} INVALID_KEY.
 */
export function readKeyFile(
  value: unknown,
  backend: Ed25519Backend = nobleBackend,
): {
  seed: Uint8Array;
  publicKey: Uint8Array;
  kid: string;
} {
  const v = value as Partial<KeyFile> | null;
  const seed = typeof v?.seed === 'string' ? fromBase64Url(v.seed) : null;
  if (!seed || seed.length !== 32)
    throw new SigningError('INVALID_KEY', 'key file: seed must be base64url of 32 bytes');
  const publicKey = publicKeyFromSeed(seed, backend);
  const kid = keyId(publicKey);
  if (v?.publicKey !== undefined && v.publicKey !== toBase64Url(publicKey))
    throw new SigningError('INVALID_KEY', 'key file: publicKey does not match the seed');
  if (v?.kid !== undefined && v.kid !== kid)
    throw new SigningError('INVALID_KEY', 'key file: kid does not match the seed');
  return { seed, publicKey, kid };
}

/**
 * Validates `record` against core's record schema (DESIGN §5) and signs its
 * JCS bytes into a DSSE envelope with `seed`. The record's `kid` must be the
 * key's (DESIGN §4).
 * @throws {SigningError} INVALID_RECORD (with the issues), KID_MISMATCH, INVALID_KEY.
 */
export function signRecord(
  record: unknown,
  seed: Uint8Array,
  backend: Ed25519Backend = nobleBackend,
): Envelope {
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new SigningError('INVALID_KEY', 'seed must be 32 bytes');
  const parsed = recordSchema.safeParse(record);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: i.path.length > 0 ? i.path.join('.') : '(record)',
      message: i.message,
    }));
    throw new SigningError(
      'INVALID_RECORD',
      `not a valid record: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  const kid = keyId(publicKeyFromSeed(seed, backend));
  if (parsed.data.kid !== kid)
    throw new SigningError(
      'KID_MISMATCH',
      `record kid ${parsed.data.kid} is not this key's kid ${kid}`,
    );
  // Sign what was validated, canonicalised (DESIGN §4: only JCS bytes are signed).
  return signEnvelope(
    RECORD_PAYLOAD_TYPE,
    encodeRecord(parsed.data as CustodyRecord),
    seed,
    backend,
  );
}

/** The record id of an envelope signed by {@link signRecord}: SHA-256 of its payload bytes (DESIGN §4). */
export function envelopeRecordId(envelope: Envelope): string {
  const bytes = fromDsseBase64(envelope.payload);
  if (!bytes) throw new SigningError('INVALID_RECORD', 'envelope payload is not standard base64');
  return recordIdFromPayload(bytes);
}
