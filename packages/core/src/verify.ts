// The verification engine (DESIGN §7): a pure function over an offline bundle
// (bundle.ts), a trust policy and an injected clock, so the server, the CLI and
// the dock page give the same verdict for the same bundle. Every finding is one
// code of the closed union in reasons.ts; the verdict is the worst severity.
//
// Order of work, and why:
//  1. the bundle frame and the checkpoint (signed by the trusted log key and
//     k-of-n witnesses): nothing else means anything without them;
//  2. per entry: leaf hash of JCS(envelope), inclusion in the checkpoint's tree
//     (verified as one multiproof: each proof stops at the first node another
//     proof already tied to the root), the receipt's signature (DESIGN §6);
//  3. notices in log order: the party and key registry signed by the authority,
//     suspensions, key revocations, recalls;
//  4. record envelopes: key registered before the record was logged, owned by
//     the actor, not revoked at receipt time; all signatures in one batch
//     (the `signatureCheck` hook lets a server spread it over worker threads);
//  5. chains: seq/prev links and forks, then every record of every chain
//     replayed through the custody state machine in log order, so containers
//     and units interleave exactly as they were accepted;
//  6. status of the subject (and of every unit of a container) for the purpose.
//
// Rules where DESIGN is silent (decided here; README material):
//  - A malformed bundle frame or a checkpoint that does not verify: reject with
//    LOG_PROOF_INVALID and nothing else. A malformed envelope or payload, or a
//    payload kid differing from the envelope keyid: SIGNATURE_INVALID on that entry.
//  - An entry that fails a log check is still judged on its content (its
//    signature, links, custody), so each problem gets its own code.
//  - Registry notices count only when signed by the trusted authority key; a
//    recall only from a commissioning party owning the GTIN's prefix; a key
//    revocation from the authority or the key's party with another key. Other
//    notices are ignored (a record signed by a key so "registered" is KEY_UNKNOWN).
//  - A record listed under another subject's chain key: CHAIN_BROKEN on that chain
//    (the record is still judged in its own subject's chain).
//  - A kid the bundle does not register but `context.keyOwners` (the service's
//    registry) gives to a party other than the actor: KEY_NOT_AUTHORIZED, not KEY_UNKNOWN.
//  - A key counts from the log index of its registration: a record logged before
//    it is KEY_UNKNOWN. A record is KEY_REVOKED when compromisedAt <= its receipt
//    time or the revocation was logged before it; also when logged while the key
//    was suspended (key-suspend .. key-reinstate).
//  - Forks: the first-logged record that links is canonical; the others are the
//    CHAIN_FORK. A chain is replayed up to its first CHAIN_BROKEN / custody
//    failure; its status codes are then not judged (its state is not current).
//  - PARTY_SUSPENDED: an actor of the subject's timeline suspended now, or a
//    record logged while its actor was suspended.
//  - Receiving and dispensing need a party: accepted when the subject (or its
//    container) is in transit to it, or it already holds it (re-verification).
//  - TIME_ANOMALY: what append refuses (DESIGN §5): a record dated before the
//    previous one of its chain, more than CLOCK_SKEW_MS after its own receipt,
//    or more than maxBackdateMs (default 72 h) before it; also a record or a
//    receipt after now + skew. The reactivation window runs on receipt times.
//  - CHECKPOINT_STALE: age from context.checkpointTime, else the newest witness
//    cosignature, else the newest receipt (a lower bound; errs towards stale).
//  - EXPIRED: the expiry date is before today (UTC) of `now`.
//  - Containers: the units are the children of the pack at every level (a pallet
//    lists its cases and their units); a unit still inside is
//    judged for custody and holds once, at the container; aggregated unit codes
//    appear at the top once per code ("n of N units: ..."), each unit's own in
//    units.failing.
import { bytesEqual, fromBase64, fromBase64Url, fromDsseBase64, toHex, utf8 } from './bytes.js';
import { checkBundleFrame, type BundleFrame, type FrameEntry, type LogReceipt } from './bundle.js';
import {
  applyRecord,
  claimedTimeProblem,
  COMMISSIONING_ROLES,
  DEFAULT_MAX_BACKDATE_MS,
  effectiveCustody,
  type ChainChild,
  type ChainState,
  type CustodyContext,
  type PartyInfo,
} from './custody.js';
import { NOTICE_PAYLOAD_TYPE, RECORD_PAYLOAD_TYPE } from './dsse.js';
import {
  checkPointEncodings,
  keyId,
  nobleBackend,
  verify as verifySignature,
  type Ed25519Backend,
} from './ed25519.js';
import { sha256 } from './hash.js';
import { canonicalBytes, canonicalize } from './jcs.js';
import {
  isValidNoteName,
  noteVerifierKey,
  parseVerifierKey,
  verifyCheckpoint,
  type NoteVerifierKey,
} from './note.js';
import { parseNoticePayload, type Notice } from './notices.js';
import { REASON_CODES, isReasonCode, verdictOf, type ReasonCode, type Verdict } from './reasons.js';
import {
  isValidGln,
  parseRecordPayload,
  subjectParts,
  type CustodyRecord,
  type RecordType,
} from './records.js';

// ---------------------------------------------------------------------------
// Public types.

/** Whom the verifier trusts: configuration, not evidence (a bad value throws {@link VerifyError}). */
export interface Trust {
  /** C2SP verifier key of the log (`name+hexid+base64`, type Ed25519): signs checkpoints and receipts. */
  logKey: string;
  /** base64url raw Ed25519 public key of the registry authority that signs party and key notices. */
  authorityKey: string;
  /**
   * Trusted witnesses (cosignature/v1): C2SP verifier key strings, or `{name, publicKey}`
   * as the trust file carries them (publicKey: base64 or base64url of the raw 32-byte key).
   * Two entries with one public key count as one witness.
   */
  witnesses?: (string | TrustWitness)[];
  /** Distinct trusted witnesses that must cosign the checkpoint; default 1 when witnesses are listed, else 0. */
  minWitnesses?: number;
  /**
   * The trust file's name for {@link minWitnesses} (DESIGN §6): at least this many distinct
   * trusted witnesses must cosign, else LOG_PROOF_INVALID. When both are set, the larger holds.
   */
  witnessQuorum?: number;
  /** Oldest checkpoint accepted, in seconds (CHECKPOINT_STALE beyond); unset: no limit. */
  maxCheckpointAgeSeconds?: number;
}

/** A witness as the trust file lists it (`GET /v1/witnesses`). */
export interface TrustWitness {
  name: string;
  /** base64 or base64url of the raw 32-byte Ed25519 public key */
  publicKey: string;
}

export type Purpose = 'receiving' | 'saleable_return' | 'dispense';

/** What the verifying party is doing, and when (core reads no clock). */
export interface VerifyContext {
  /** GLN of the verifying party; required for `receiving` and `dispense`. */
  party?: string;
  purpose: Purpose;
  /** RFC 3339: the injected clock. */
  now: string;
  /** Lot and expiry (YYYY-MM-DD) read from the scanned code, matched against the commissioned ones. */
  scan?: { lot?: string; expiry?: string };
  /**
   * Canonical subject of what was physically scanned (DESIGN §7 offline). A bundle about
   * another subject is SUBJECT_MISMATCH (reject), unless it is the bundle of a logistic
   * unit and the scanned unit is one of its children still inside it at the checkpoint
   * (the container's verdict covers every unit in it). Unset: no comparison (the
   * server, which builds the bundle for the subject it was asked about).
   */
  scannedSubject?: string;
  /** RFC 3339: when the bundle's checkpoint was fetched, for staleness. */
  checkpointTime?: string;
  /** Findings from outside the bundle (DUPLICATE_SCAN, BUNDLE_DIVERGES: the service's), merged in. */
  findings?: Reason[];
  /**
   * kid -> owner GLN ('authority' for the registry's key) from outside the bundle (the
   * service's registry). A record signed with a kid the bundle does not register, but
   * that this registry gives to another party than its actor, is KEY_NOT_AUTHORIZED
   * rather than KEY_UNKNOWN. Never makes a record valid: its key is still unproved.
   */
  keyOwners?: Readonly<Record<string, string>>;
}

/** One finding: a code of the closed union (DESIGN §7), a message for people, where it applies. */
export interface Reason {
  code: ReasonCode;
  message: string;
  subject?: string;
  seq?: number;
}

/** Current state of a subject as the bundle shows it. */
export type SubjectStatus = 'active' | 'inactive' | 'in_transit' | 'quarantined' | 'unknown';

/** One record of the custody timeline. */
export interface TimelineEntry {
  /** the chain it belongs to: the subject, or the logistic unit the subject travelled in */
  subject: string;
  seq: number;
  type: RecordType;
  actor: string;
  time: string;
  /** integratedAt of its log receipt */
  receiptTime: string;
  /** log index */
  index: number;
  /** record id */
  id: string;
  to?: string;
  from?: string;
  shipment?: string;
}

export interface ProductInfo {
  gtin: string;
  serial: string;
  lot: string;
  expiry: string;
  /** The commission's `product` fields (name, strength, …), when the manufacturer gave them. */
  details?: Readonly<Record<string, string>>;
}

/** A failing unit of a logistic unit, with its own reasons. */
export interface UnitFailure {
  subject: string;
  verdict: Verdict;
  reasons: Reason[];
}

export interface UnitsSummary {
  total: number;
  counts: Record<Verdict, number>;
  failing: UnitFailure[];
}

export interface VerificationResult {
  verdict: Verdict;
  reasons: Reason[];
  subject: string;
  status: SubjectStatus;
  /** effective custodian (GLN): a contained unit's is its container's; the shipper while in transit */
  custodian: string | null;
  custody: TimelineEntry[];
  product?: ProductInfo;
  /** logistic units: every unit inside (at the container's pack) */
  units?: UnitsSummary;
  /** the checkpoint the evidence was proved against, when it verified */
  checkpoint?: { origin: string; size: number; rootHash: string };
}

/** One Ed25519 check for the {@link SignatureCheck} hook. */
export interface SignatureItem {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

/**
 * Checks signatures in bulk, one boolean per item, in order. Items reaching
 * the hook already passed {@link checkPointEncodings}; the hook must apply the
 * rest of the policy, i.e. call core's `verify` (in worker threads, say).
 */
export type SignatureCheck = (items: readonly SignatureItem[]) => boolean[];
export type AsyncSignatureCheck = (
  items: readonly SignatureItem[],
) => boolean[] | Promise<boolean[]>;

export interface VerifyOptions {
  /** Ed25519 backend for every signature the hook does not take; default noble (portable). */
  backend?: Ed25519Backend;
  /** Bulk check of record-envelope and receipt signatures; default: `verify` with `backend`. */
  signatureCheck?: SignatureCheck;
  /**
   * Which receipt signatures to check. 'all' (default): every one. 'needed':
   * every notice's, every receipt of the subject's own chains (and of the
   * containers it travelled in), of every record signed by a key that has a
   * revocation or suspension, and every receipt whose time would raise a
   * TIME_ANOMALY. The leaf is proved by the inclusion proof either way; a
   * receipt only adds integratedAt, and this is every place it decides a code.
   */
  receiptSignatures?: 'all' | 'needed';
  /** SHA-256 implementation for leaf and node hashes (e.g. node:crypto on a server); default noble. */
  sha256?: (bytes: Uint8Array) => Uint8Array;
  /** Same as {@link VerifyContext.scannedSubject} (either place; both must then agree). */
  scannedSubject?: string;
  /** Same as {@link Trust.maxCheckpointAgeSeconds}; when both are set, the stricter holds. */
  maxCheckpointAgeSeconds?: number;
  /**
   * How far a record's time may lie before its receipt time (the issuer's
   * PROVENANT_MAX_BACKDATE, DESIGN §5); beyond it TIME_ANOMALY. Default 72 h.
   */
  maxBackdateMs?: number;
}

export interface AsyncVerifyOptions extends Omit<VerifyOptions, 'signatureCheck'> {
  signatureCheck?: AsyncSignatureCheck;
}

/** Misuse of the engine: bad trust, context or options (never thrown for bad evidence). */
export class VerifyError extends Error {
  override readonly name = 'VerifyError';
  constructor(
    readonly code: 'INVALID_TRUST' | 'INVALID_CONTEXT' | 'INVALID_OPTIONS',
    message: string,
  ) {
    super(message);
  }
}

/** Clock allowance: records and receipts may lie this far in the future, or go this far backwards. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

// ---------------------------------------------------------------------------
// Entry points.

/**
 * Verifies an offline bundle for `context.purpose` as `context.party`, at
 * `context.now`. Pure and synchronous; never throws for bad evidence (a
 * malformed bundle is a reject with LOG_PROOF_INVALID naming the path).
 *
 * @param options a backend (as the 4th argument) or {@link VerifyOptions}.
 * @throws {VerifyError} INVALID_TRUST / INVALID_CONTEXT / INVALID_OPTIONS for misuse.
 */
export function verifyBundle(
  bundle: unknown,
  trust: Trust,
  context: VerifyContext,
  options: VerifyOptions | Ed25519Backend = {},
): VerificationResult {
  const opts: VerifyOptions = isBackend(options) ? { backend: options } : options;
  const backend = opts.backend ?? nobleBackend;
  const check: SignatureCheck =
    opts.signatureCheck ??
    ((items) => items.map((i) => verifySignature(i.signature, i.message, i.publicKey, backend)));
  const run = engine(bundle, trust, context, opts);
  let step = run.next();
  while (!step.done) step = run.next(checked(step.value, check(step.value)));
  return step.value;
}

/**
 * {@link verifyBundle} with an asynchronous signature hook (e.g. worker
 * threads); everything else runs synchronously on the calling thread.
 * @throws {VerifyError} as {@link verifyBundle}.
 */
export async function verifyBundleAsync(
  bundle: unknown,
  trust: Trust,
  context: VerifyContext,
  options: AsyncVerifyOptions = {},
): Promise<VerificationResult> {
  const backend = options.backend ?? nobleBackend;
  const check: AsyncSignatureCheck =
    options.signatureCheck ??
    ((items) => items.map((i) => verifySignature(i.signature, i.message, i.publicKey, backend)));
  const { signatureCheck: _ignored, ...rest } = options;
  void _ignored;
  const run = engine(bundle, trust, context, rest);
  let step = run.next();
  while (!step.done) step = run.next(checked(step.value, await check(step.value)));
  return step.value;
}

function isBackend(o: unknown): o is Ed25519Backend {
  return (
    typeof o === 'object' && o !== null && typeof (o as Ed25519Backend).verifyRaw === 'function'
  );
}

function checked(items: readonly SignatureItem[], results: unknown): boolean[] {
  if (!Array.isArray(results) || results.length !== items.length)
    throw new VerifyError('INVALID_OPTIONS', 'signatureCheck must return one boolean per item');
  return results.map((r) => r === true);
}

// ---------------------------------------------------------------------------
// Policy inputs.

interface Policy {
  logKey: NoteVerifierKey;
  authorityKey: Uint8Array;
  authorityKid: string;
  witnesses: NoteVerifierKey[];
  minWitnesses: number;
  maxAgeMs: number | null;
  now: number;
  today: string;
  party: string | null;
  purpose: Purpose;
  scan: { lot?: string; expiry?: string };
  scannedSubject: string | null;
  checkpointTime: number | null;
  findings: Reason[];
  keyOwners: ReadonlyMap<string, string>;
  receipts: 'all' | 'needed';
  hash: (bytes: Uint8Array) => Uint8Array;
  backend: Ed25519Backend;
  maxBackdateMs: number;
}

const PURPOSES: ReadonlySet<string> = new Set(['receiving', 'saleable_return', 'dispense']);
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function parseTime(value: unknown, what: string): number {
  const t = typeof value === 'string' && RFC3339_RE.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(t)) throw new VerifyError('INVALID_CONTEXT', `${what} must be RFC 3339`);
  return t;
}

function parseTrustKey(vkey: unknown, what: string): NoteVerifierKey {
  try {
    return parseVerifierKey(vkey as string);
  } catch (e) {
    throw new VerifyError(
      'INVALID_TRUST',
      `${what}: ${e instanceof Error ? e.message : 'invalid'}`,
    );
  }
}

/** The trusted witnesses, one per public key (the first entry of a key wins). */
function witnessKeysOf(list: Trust['witnesses']): NoteVerifierKey[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new VerifyError('INVALID_TRUST', 'witnesses must be an array');
  const out: NoteVerifierKey[] = [];
  const seen = new Set<string>();
  list.forEach((w, i) => {
    const key = typeof w === 'string' ? parseTrustKey(w, `witnesses[${i}]`) : witnessKey(w, i);
    if (key.type !== 'cosignature/v1')
      throw new VerifyError('INVALID_TRUST', `witnesses[${i}] must be a cosignature/v1 key`);
    const hex = toHex(key.publicKey);
    if (seen.has(hex)) return;
    seen.add(hex);
    out.push(key);
  });
  return out;
}

function witnessKey(w: unknown, i: number): NoteVerifierKey {
  const o = (typeof w === 'object' && w !== null ? w : {}) as Partial<TrustWitness>;
  const pub =
    typeof o.publicKey === 'string'
      ? (fromBase64(o.publicKey) ?? fromBase64Url(o.publicKey))
      : null;
  if (typeof o.name !== 'string' || !isValidNoteName(o.name) || !pub || pub.length !== 32)
    throw new VerifyError(
      'INVALID_TRUST',
      `witnesses[${i}] must be {name, publicKey} with a note name and base64 of a 32-byte key`,
    );
  return noteVerifierKey(o.name, pub, 'cosignature/v1');
}

function policyOf(trust: Trust, context: VerifyContext, opts: VerifyOptions): Policy {
  if (typeof trust !== 'object' || trust === null)
    throw new VerifyError('INVALID_TRUST', 'trust must be an object');
  const logKey = parseTrustKey(trust.logKey, 'logKey');
  if (logKey.type !== 'ed25519')
    throw new VerifyError('INVALID_TRUST', 'logKey must be an Ed25519 verifier key');
  const authorityKey =
    typeof trust.authorityKey === 'string' ? fromBase64Url(trust.authorityKey) : null;
  if (!authorityKey || authorityKey.length !== 32)
    throw new VerifyError('INVALID_TRUST', 'authorityKey must be base64url of 32 bytes');
  const witnesses = witnessKeysOf(trust.witnesses);
  for (const [what, v] of [
    ['minWitnesses', trust.minWitnesses],
    ['witnessQuorum', trust.witnessQuorum],
  ] as const)
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0 && v <= witnesses.length))
      throw new VerifyError(
        'INVALID_TRUST',
        `${what} must be an integer between 0 and the distinct witnesses listed`,
      );
  // Never weaker than either setting: a quorum the trust file asks for cannot be lowered.
  const minWitnesses =
    trust.minWitnesses === undefined && trust.witnessQuorum === undefined
      ? witnesses.length > 0
        ? 1
        : 0
      : Math.max(trust.minWitnesses ?? 0, trust.witnessQuorum ?? 0);
  const ages = [trust.maxCheckpointAgeSeconds, opts.maxCheckpointAgeSeconds].filter(
    (a) => a !== undefined,
  );
  if (!ages.every((a) => typeof a === 'number' && a >= 0 && Number.isFinite(a)))
    throw new VerifyError('INVALID_TRUST', 'maxCheckpointAgeSeconds must be a non-negative number');
  // Given in the trust and as an option (the dock passes both): the stricter holds.
  const maxAge = ages.length > 0 ? Math.min(...(ages as number[])) : undefined;

  if (typeof context !== 'object' || context === null)
    throw new VerifyError('INVALID_CONTEXT', 'context must be an object');
  const now = parseTime(context.now, 'now');
  if (!PURPOSES.has(context.purpose))
    throw new VerifyError(
      'INVALID_CONTEXT',
      'purpose must be receiving, saleable_return or dispense',
    );
  const party = context.party ?? null;
  if (party !== null && (typeof party !== 'string' || !isValidGln(party)))
    throw new VerifyError('INVALID_CONTEXT', 'party must be a GLN');
  // Failing open is not an option: a custody check without a party would pass anything.
  if (party === null && context.purpose !== 'saleable_return')
    throw new VerifyError(
      'INVALID_CONTEXT',
      `purpose ${context.purpose} needs the verifying party`,
    );
  const scan = context.scan ?? {};
  if (
    (scan.lot !== undefined && typeof scan.lot !== 'string') ||
    (scan.expiry !== undefined &&
      (typeof scan.expiry !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(scan.expiry)))
  )
    throw new VerifyError(
      'INVALID_CONTEXT',
      'scan.lot must be a string and scan.expiry YYYY-MM-DD',
    );
  const scanned = context.scannedSubject ?? opts.scannedSubject;
  if (scanned !== undefined && (typeof scanned !== 'string' || subjectParts(scanned) === null))
    throw new VerifyError('INVALID_CONTEXT', 'scannedSubject must be a canonical subject');
  if (
    context.scannedSubject !== undefined &&
    opts.scannedSubject !== undefined &&
    context.scannedSubject !== opts.scannedSubject
  )
    throw new VerifyError('INVALID_CONTEXT', 'scannedSubject is given twice, differently');
  const checkpointTime =
    context.checkpointTime === undefined
      ? null
      : parseTime(context.checkpointTime, 'checkpointTime');
  const findings = context.findings ?? [];
  if (
    !Array.isArray(findings) ||
    !findings.every((f) => isReasonCode(f?.code) && typeof f.message === 'string')
  )
    throw new VerifyError('INVALID_CONTEXT', 'findings must be reasons with a known code');
  const owners = context.keyOwners ?? {};
  if (
    typeof owners !== 'object' ||
    owners === null ||
    !Object.values(owners).every((g) => typeof g === 'string')
  )
    throw new VerifyError('INVALID_CONTEXT', 'keyOwners must map kids to GLNs');
  const maxBackdateMs = opts.maxBackdateMs ?? DEFAULT_MAX_BACKDATE_MS;
  if (!(typeof maxBackdateMs === 'number' && maxBackdateMs >= 0 && Number.isFinite(maxBackdateMs)))
    throw new VerifyError('INVALID_OPTIONS', 'maxBackdateMs must be a non-negative number');
  const receipts = opts.receiptSignatures ?? 'all';
  if (receipts !== 'all' && receipts !== 'needed')
    throw new VerifyError('INVALID_OPTIONS', "receiptSignatures must be 'all' or 'needed'");
  return {
    logKey,
    authorityKey,
    authorityKid: keyId(authorityKey),
    witnesses,
    minWitnesses,
    maxAgeMs: maxAge === undefined ? null : maxAge * 1000,
    now,
    today: new Date(now).toISOString().slice(0, 10),
    party,
    purpose: context.purpose,
    scan,
    scannedSubject: scanned ?? null,
    checkpointTime,
    findings,
    keyOwners: new Map(Object.entries(owners)),
    receipts,
    hash: opts.sha256 ?? sha256,
    backend: opts.backend ?? nobleBackend,
    maxBackdateMs,
  };
}

// ---------------------------------------------------------------------------
// Reasons: deduplicated by (code, subject), the first occurrence kept.

class Findings {
  private readonly byKey = new Map<string, Reason>();

  add(code: ReasonCode, message: string, subject?: string, seq?: number): void {
    const key = `${code}|${subject ?? ''}`;
    if (this.byKey.has(key)) return;
    const r: Reason = { code, message };
    if (subject !== undefined) r.subject = subject;
    if (seq !== undefined) r.seq = seq;
    this.byKey.set(key, r);
  }

  addReason(r: Reason): void {
    this.add(r.code, r.message, r.subject, r.seq);
  }

  all(): Reason[] {
    return [...this.byKey.values()];
  }
}

const CODE_ORDER = new Map(REASON_CODES.map((c, i) => [c, i] as const));

/** Stable order: DESIGN §7 table order (rejects first), then subject, then seq. */
function sortReasons(reasons: Reason[]): Reason[] {
  return reasons.sort(
    (a, b) =>
      CODE_ORDER.get(a.code)! - CODE_ORDER.get(b.code)! ||
      (a.subject ?? '').localeCompare(b.subject ?? '') ||
      (a.seq ?? -1) - (b.seq ?? -1),
  );
}

// ---------------------------------------------------------------------------
// Multiproof: RFC 9162 §2.1.3.2 inclusion proofs, checked together. Every node
// a verified proof produces or carries is a true node of the checkpoint's tree
// (SHA-256 collision resistance), so the next proof stops at the first node it
// shares with one already verified: 20,000 neighbouring leaves cost about
// 2 hashes each instead of log2(n), with the same guarantee.

class InclusionChecker {
  private readonly verified = new Map<string, Uint8Array>();
  private readonly nodeBuf = new Uint8Array(65);
  // Scratch for one path, leaf to root: sibling and parent ranges (start, count).
  private readonly sibStart: number[] = [];
  private readonly sibCount: number[] = [];
  private readonly parStart: number[] = [];
  private readonly parCount: number[] = [];

  constructor(
    private readonly size: number,
    root: Uint8Array,
    private readonly hash: (b: Uint8Array) => Uint8Array,
  ) {
    this.verified.set(`0:${size}`, root);
    this.nodeBuf[0] = 0x01; // RFC 9162 §2.1.1 node prefix
  }

  private node(left: Uint8Array, right: Uint8Array): Uint8Array {
    this.nodeBuf.set(left, 1);
    this.nodeBuf.set(right, 33);
    return this.hash(this.nodeBuf);
  }

  /** RFC 9162 §2.1.3.1 PATH(index, D[size]) into the scratch arrays, leaf to root; returns its length. */
  private path(index: number): number {
    let depth = 0;
    let offset = 0;
    let m = index;
    let n = this.size;
    while (n > 1) {
      let k = 1;
      while (k * 2 < n) k *= 2;
      this.parStart[depth] = offset;
      this.parCount[depth] = n;
      if (m < k) {
        this.sibStart[depth] = offset + k;
        this.sibCount[depth] = n - k;
        n = k;
      } else {
        this.sibStart[depth] = offset;
        this.sibCount[depth] = k;
        offset += k;
        m -= k;
        n -= k;
      }
      depth++;
    }
    // Computed root to leaf; the walk below reads it from the end.
    return depth;
  }

  /** null when leaf `index` with hash `leaf` is in the tree; else why not. Proof elements are attacker-controlled. */
  check(index: number, leaf: Uint8Array, proof: readonly unknown[]): string | null {
    if (index >= this.size) return `index ${index} is beyond the checkpoint size ${this.size}`;
    const depth = this.path(index);
    if (proof.length !== depth) return `inclusion proof has ${proof.length} hashes, want ${depth}`;
    const fresh: (string | Uint8Array)[] = [];
    let h = leaf;
    let key = `${index}:1`;
    for (let j = 0; ; j++) {
      const known = this.verified.get(key);
      if (known !== undefined) {
        if (!bytesEqual(known, h)) return 'inclusion proof does not lead to the checkpoint root';
        for (let i = 0; i < fresh.length; i += 2) {
          const k = fresh[i] as string;
          if (!this.verified.has(k)) this.verified.set(k, fresh[i + 1] as Uint8Array);
        }
        return null;
      }
      // The root is always known, so the walk ends there at the latest.
      const d = depth - 1 - j;
      const sibling = hex32(proof[j]);
      if (sibling === null) return `proof[${j}] is not 64 lowercase hex digits`;
      const sibStart = this.sibStart[d]!;
      fresh.push(key, h, `${sibStart}:${this.sibCount[d]!}`, sibling);
      h = sibStart > this.parStart[d]! ? this.node(h, sibling) : this.node(sibling, h);
      key = `${this.parStart[d]!}:${this.parCount[d]!}`;
    }
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** 32 bytes from 64 lowercase hex digits, or null. */
function hex32(s: unknown): Uint8Array | null {
  if (typeof s !== 'string' || s.length !== 64) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    const hi = hexValue(s.charCodeAt(2 * i));
    const lo = hexValue(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return null;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Entries.

interface ParsedEnvelope {
  payloadType: string;
  payload: Uint8Array;
  keyid: string;
  sig: Uint8Array;
}

const KEYID_RE = /^[0-9a-f]{32}$/;

// The rules of dsse.ts envelopeSchema, inline because it runs for every entry.
function parseEnvelope(e: unknown): ParsedEnvelope | string {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'envelope is not an object';
  const o = e as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 3 || !('payloadType' in o) || !('payload' in o) || !('signatures' in o))
    return 'envelope must have exactly payloadType, payload and signatures';
  const { payloadType, payload, signatures } = o;
  if (typeof payloadType !== 'string') return 'payloadType is not a string';
  const bytes = typeof payload === 'string' ? fromDsseBase64(payload) : null;
  if (bytes === null) return 'payload is not strict base64';
  if (!Array.isArray(signatures) || signatures.length !== 1)
    return 'a Provenant envelope carries exactly one signature';
  const s = signatures[0] as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null || Object.keys(s).length !== 2)
    return 'signature must have exactly keyid and sig';
  const keyid = s['keyid'];
  if (typeof keyid !== 'string' || !KEYID_RE.test(keyid))
    return 'keyid must be 32 lowercase hex characters';
  const sig = typeof s['sig'] === 'string' ? fromDsseBase64(s['sig']) : null;
  if (sig === null || sig.length !== 64) return 'sig must be base64 of 64 bytes';
  return { payloadType, payload: bytes, keyid, sig };
}

// ---------------------------------------------------------------------------
// Hot-path helpers: each runs once per entry of a 20,000-entry pallet bundle.

const encoder = new TextEncoder();

/** SHA-256(0x00 ‖ UTF-8(json)) through one reused buffer (RFC 9162 §2.1.1 leaf prefix). */
class LeafHasher {
  private buf = new Uint8Array(4096);
  constructor(private readonly sha: (b: Uint8Array) => Uint8Array) {}

  of(json: string): Uint8Array {
    if (this.buf.length < json.length * 3 + 1) this.buf = new Uint8Array(json.length * 6 + 1);
    this.buf[0] = 0x00;
    const { written } = encoder.encodeInto(json, this.buf.subarray(1));
    return this.sha(this.buf.subarray(0, written + 1));
  }
}

const paePrefixes = new Map<string, Uint8Array>();

/**
 * DSSE v1 PAE (DESIGN §4), byte for byte what dsse.ts `pae` builds, with the
 * constant "DSSEv1 <len> <type> " prefix built once per payload type.
 */
function paeOf(payloadType: string, body: Uint8Array): Uint8Array {
  let prefix = paePrefixes.get(payloadType);
  if (prefix === undefined) {
    prefix = utf8(`DSSEv1 ${utf8(payloadType).length} ${payloadType} `);
    if (paePrefixes.size < 16) paePrefixes.set(payloadType, prefix);
  }
  const len = utf8(`${body.length} `);
  const out = new Uint8Array(prefix.length + len.length + body.length);
  out.set(prefix, 0);
  out.set(len, prefix.length);
  out.set(body, prefix.length + len.length);
  return out;
}

const NO_BYTES = new Uint8Array(0);

/** PAEs of many envelopes in one allocation: one ArrayBuffer instead of 20,000 small ones. */
class PaeBatch {
  private readonly jobs: {
    item: SignatureItem;
    prefix: Uint8Array;
    len: Uint8Array;
    body: Uint8Array;
  }[] = [];
  private total = 0;

  push(item: SignatureItem, payloadType: string, body: Uint8Array): void {
    let prefix = paePrefixes.get(payloadType);
    if (prefix === undefined) {
      prefix = utf8(`DSSEv1 ${utf8(payloadType).length} ${payloadType} `);
      if (paePrefixes.size < 16) paePrefixes.set(payloadType, prefix);
    }
    const len = utf8(`${body.length} `);
    this.jobs.push({ item, prefix, len, body });
    this.total += prefix.length + len.length + body.length;
  }

  /** Sets every pushed item's message. */
  fill(): void {
    const buf = new Uint8Array(this.total);
    let at = 0;
    for (const { item, prefix, len, body } of this.jobs) {
      const start = at;
      buf.set(prefix, at);
      at += prefix.length;
      buf.set(len, at);
      at += len.length;
      buf.set(body, at);
      at += body.length;
      item.message = buf.subarray(start, at);
    }
  }
}

type ParsedRecord =
  | { ok: true; record: CustodyRecord; id: string }
  | { ok: false; errors: { path: string; message: string }[] };

/** records.ts `parseRecordPayload` (it has the fast path) with the injected hash. */
function parseRecord(payload: Uint8Array, hash: (b: Uint8Array) => Uint8Array): ParsedRecord {
  return parseRecordPayload(payload, { sha256: hash });
}

interface Entry {
  frame: FrameEntry;
  receipt: LogReceipt;
  index: number;
  /** integratedAt, epoch ms */
  at: number;
  /** key of the chain it was listed under, for records */
  listedAs: string | null;
  env: ParsedEnvelope | null;
  record: CustodyRecord | null;
  notice: Notice | null;
  /** record or notice id */
  id: string;
  leafHex: string;
  logProblem: string | null;
  /** undefined: not checked (yet) */
  receiptOk: boolean | undefined;
  sigOk: boolean | undefined;
}

interface KeyInfo {
  kid: string;
  gln: string;
  publicKey: Uint8Array;
  /** log index of its registration */
  index: number;
  revocations: { index: number; compromisedAt: number; text: string }[];
  /** [from, to) log index ranges in which the key was suspended */
  suspensions: { from: number; to: number }[];
}

type PartyEvent =
  | {
      index: number;
      kind: 'set';
      gln: string;
      roles: readonly string[];
      prefixes: readonly string[];
    }
  | { index: number; kind: 'status'; gln: string; status: 'active' | 'suspended' };

interface Recall {
  gtin: string;
  lot?: string;
  reason: string;
}

// ---------------------------------------------------------------------------
// Replay context: the registry as of the record being applied, and the states.

class ReplayContext implements CustodyContext {
  readonly states = new Map<string, ChainState>();
  readonly parties = new Map<string, PartyInfo>();
  /** While a container pack is applied: children with no chain in the bundle, and the packer. */
  absent: { container: string; actor: string; time: string; heads: Map<string, string> } | null =
    null;

  party(gln: string): PartyInfo | undefined {
    return this.parties.get(gln);
  }

  state(subject: string): ChainState | undefined {
    const s = this.states.get(subject);
    if (s !== undefined || this.absent === null) return s;
    const head = this.absent.heads.get(subject);
    if (head === undefined) return undefined;
    // A sibling of the unit this bundle is about: taken at the container's signed word.
    return absentChild(subject, head, this.absent.container, this.absent.actor, this.absent.time);
  }
}

const NO_CHILDREN: readonly ChainChild[] = Object.freeze([]);

function absentChild(
  subject: string,
  head: string,
  container: string,
  actor: string,
  time: string,
): ChainState {
  return {
    subject,
    kind: 'unit',
    seq: 1,
    head,
    lastType: 'pack',
    lastTime: time,
    lastActor: actor,
    originator: actor,
    active: true,
    custodian: actor,
    inTransit: null,
    containedIn: container,
    children: NO_CHILDREN,
    unpacked: null,
    quarantined: null,
    decommission: null,
    product: null,
  };
}

// ---------------------------------------------------------------------------
// The engine.

function emptyResult(subject: string, reasons: Reason[]): VerificationResult {
  const sorted = sortReasons(reasons);
  return {
    verdict: verdictOf(sorted.map((r) => r.code)),
    reasons: sorted,
    subject,
    status: 'unknown',
    custodian: null,
    custody: [],
  };
}

function* engine(
  bundle: unknown,
  trust: Trust,
  context: VerifyContext,
  opts: VerifyOptions,
): Generator<SignatureItem[], VerificationResult, boolean[]> {
  const policy = policyOf(trust, context, opts);
  const findings = new Findings();
  for (const f of policy.findings) findings.addReason(f);

  // 1. Frame and checkpoint.
  const framed = checkBundleFrame(bundle);
  if (!framed.ok) {
    findings.add(
      'LOG_PROOF_INVALID',
      `bundle is malformed${framed.path ? ` at ${framed.path}` : ''}: ${framed.message}`,
    );
    subjectMismatch(policy, framed.subject ?? '', findings, () => false);
    return emptyResult(framed.subject ?? '', findings.all());
  }
  const frame: BundleFrame = framed.frame;
  const subject = frame.subject;
  const cp = verifyCheckpoint(frame.checkpoint, policy.logKey, {
    witnesses: policy.witnesses,
    minWitnesses: policy.minWitnesses,
    backend: policy.backend,
  });
  if (!cp.ok) {
    findings.add('LOG_PROOF_INVALID', `checkpoint does not verify (${cp.code}): ${cp.detail}`);
    subjectMismatch(policy, subject, findings, () => false);
    return emptyResult(subject, findings.all());
  }
  const { origin, size, rootHash } = cp.checkpoint;
  const checker = new InclusionChecker(size, rootHash, policy.hash);

  // 2. Entries: parse, leaf hash, inclusion.
  const entries: Entry[] = [];
  const seen = new Map<number, string>();
  const leaves = new LeafHasher(policy.hash);
  const addEntry = (fe: FrameEntry, listedAs: string | null): void => {
    const r = fe.receipt;
    // The same leaf listed twice (e.g. under two chains) is one entry.
    if (seen.get(r.index) === r.leafHash) return;
    seen.set(r.index, r.leafHash);
    const entry: Entry = {
      frame: fe,
      receipt: r,
      index: r.index,
      at: Date.parse(r.integratedAt),
      listedAs,
      env: null,
      record: null,
      notice: null,
      id: '',
      leafHex: r.leafHash,
      logProblem: null,
      receiptOk: undefined,
      sigOk: undefined,
    };
    if (r.origin !== origin) {
      entry.logProblem = `receipt origin ${JSON.stringify(r.origin)} is not the checkpoint's`;
    } else {
      let json: string | null = null;
      try {
        json = canonicalize(fe.envelope);
      } catch {
        entry.logProblem = 'envelope has no canonical JSON form';
      }
      if (json !== null) {
        // DESIGN §6: leaf hash = SHA-256(0x00 ‖ JCS(envelope)).
        const leaf = leaves.of(json);
        if (!bytesEqual(leaf, hex32(r.leafHash)!))
          entry.logProblem = 'leaf hash does not match the envelope';
        else entry.logProblem = checker.check(r.index, leaf, fe.proof);
      }
    }
    entries.push(entry);
  };
  for (const [key, list] of frame.chains) for (const fe of list) addEntry(fe, key);
  for (const fe of frame.notices) addEntry(fe, null);

  // Parse envelopes and payloads. Problems become SIGNATURE_INVALID on that entry.
  const parseProblems = new Map<Entry, string>();
  // Payload kid differs from the envelope keyid: SIGNATURE_INVALID, yet the record keeps its place in the chain.
  const kidMismatch = new Set<Entry>();
  for (const e of entries) {
    const env = parseEnvelope(e.frame.envelope);
    if (typeof env === 'string') {
      parseProblems.set(e, `malformed envelope: ${env}`);
      continue;
    }
    e.env = env;
    if (e.listedAs !== null) {
      if (env.payloadType !== RECORD_PAYLOAD_TYPE) {
        parseProblems.set(e, `payloadType is not ${RECORD_PAYLOAD_TYPE}`);
        continue;
      }
      const p = parseRecord(env.payload, policy.hash);
      if (!p.ok) {
        parseProblems.set(e, `payload is not a valid record: ${issues(p.errors)}`);
        continue;
      }
      e.record = p.record;
      e.id = p.id;
      if (p.record.kid !== env.keyid) kidMismatch.add(e);
    } else {
      if (env.payloadType !== NOTICE_PAYLOAD_TYPE) {
        parseProblems.set(e, `payloadType is not ${NOTICE_PAYLOAD_TYPE}`);
        continue;
      }
      const p = parseNoticePayload(env.payload);
      if (!p.ok) {
        parseProblems.set(e, `payload is not a valid notice: ${issues(p.errors)}`);
        continue;
      }
      e.notice = p.notice;
      e.id = p.id;
      if (p.notice.kid !== env.keyid)
        parseProblems.set(e, `notice kid ${p.notice.kid} is not the envelope keyid ${env.keyid}`);
    }
  }
  const subjectOf = (e: Entry): string | undefined => e.record?.subject ?? e.listedAs ?? undefined;
  const seqOf = (e: Entry): number | undefined => e.record?.seq;
  for (const e of entries) {
    if (e.logProblem !== null)
      findings.add(
        'LOG_PROOF_INVALID',
        `${e.frame.where}: ${e.logProblem}`,
        subjectOf(e),
        seqOf(e),
      );
    const p = parseProblems.get(e);
    if (p !== undefined)
      findings.add('SIGNATURE_INVALID', `${e.frame.where}: ${p}`, subjectOf(e), seqOf(e));
    else if (kidMismatch.has(e))
      findings.add(
        'SIGNATURE_INVALID',
        `${e.frame.where}: record kid ${e.record!.kid} is not the envelope keyid ${e.env!.keyid}`,
        subjectOf(e),
        seqOf(e),
      );
    // A record listed under another subject's chain: that chain, as listed, does not link.
    if (e.record !== null && e.listedAs !== null && e.record.subject !== e.listedAs)
      findings.add(
        'CHAIN_BROKEN',
        `${e.frame.where} is a record of ${e.record.subject}, not of ${e.listedAs}`,
        e.listedAs,
      );
  }

  const logKeyBytes = policy.logKey.publicKey;
  const receiptItem = (e: Entry): SignatureItem | null => {
    const signature = fromBase64(e.receipt.signature);
    if (signature === null || signature.length !== 64) return null;
    const { origin: o, index, leafHash, integratedAt } = e.receipt;
    // DESIGN §6: the log key signs the JCS bytes of exactly these four fields.
    const message = canonicalBytes({ origin: o, index, leafHash, integratedAt });
    return { signature, message, publicKey: logKeyBytes };
  };
  const checkReceiptNow = (e: Entry): boolean => {
    if (e.receiptOk === undefined) {
      const item = receiptItem(e);
      e.receiptOk =
        item !== null &&
        verifySignature(item.signature, item.message, item.publicKey, policy.backend);
    }
    return e.receiptOk;
  };
  const receiptFailed = (e: Entry): void => {
    findings.add(
      'LOG_PROOF_INVALID',
      `${e.frame.where}: receipt signature does not verify under the log key`,
      subjectOf(e),
      seqOf(e),
    );
  };

  // 3. Notices, in log order. Their receipts are always checked: few, and their times decide key validity.
  const notices = entries.filter((e) => e.notice !== null && !parseProblems.has(e)).sort(byIndex);
  const keys = new Map<string, KeyInfo>();
  const partyEvents: PartyEvent[] = [];
  const partyNow = new Map<
    string,
    { roles: readonly string[]; prefixes: readonly string[]; status: 'active' | 'suspended' }
  >();
  const recalls = new Map<string, Recall[]>();
  const keyValidAt = (k: KeyInfo, index: number, at: number): boolean =>
    k.index < index &&
    !k.revocations.some((r) => r.index < index || r.compromisedAt <= at) &&
    !k.suspensions.some((s) => s.from < index && index < s.to);
  for (const e of notices) {
    const n = e.notice!;
    const env = e.env!;
    if (!checkReceiptNow(e)) {
      receiptFailed(e);
      continue;
    }
    // Who may sign this notice (DESIGN §5); a notice from anyone else is no notice at all.
    let signer: Uint8Array | null = null;
    if (n.actor === 'authority') {
      if (env.keyid === policy.authorityKid) signer = policy.authorityKey;
    } else {
      const k = keys.get(env.keyid);
      if (k && k.gln === n.actor && keyValidAt(k, e.index, e.at)) signer = k.publicKey;
    }
    if (signer === null) continue;
    if (!verifySignature(env.sig, paeOf(env.payloadType, env.payload), signer, policy.backend)) {
      findings.add(
        'SIGNATURE_INVALID',
        `${e.frame.where}: ${n.type} notice signature does not verify`,
      );
      continue;
    }
    applyNotice(n, e);
  }
  function applyNotice(n: Notice, e: Entry): void {
    const byAuthority = n.actor === 'authority';
    switch (n.type) {
      case 'party': {
        const cur = partyNow.get(n.data.gln);
        partyNow.set(n.data.gln, {
          roles: n.data.roles,
          prefixes: n.data.prefixes,
          status: cur?.status ?? 'active',
        });
        partyEvents.push({
          index: e.index,
          kind: 'set',
          gln: n.data.gln,
          roles: n.data.roles,
          prefixes: n.data.prefixes,
        });
        return;
      }
      case 'party-suspend':
      case 'party-reinstate': {
        const status = n.type === 'party-suspend' ? 'suspended' : 'active';
        const cur = partyNow.get(n.data.gln);
        if (cur) partyNow.set(n.data.gln, { ...cur, status });
        partyEvents.push({ index: e.index, kind: 'status', gln: n.data.gln, status });
        return;
      }
      case 'key': {
        const raw = fromBase64Url(n.data.publicKey);
        // First registration of a kid wins; the schema tied kid to publicKey.
        if (raw && !keys.has(n.data.kid))
          keys.set(n.data.kid, {
            kid: n.data.kid,
            gln: n.data.gln,
            publicKey: raw,
            index: e.index,
            revocations: [],
            suspensions: [],
          });
        return;
      }
      case 'key-suspend': {
        const k = keys.get(n.data.kid);
        if (k && !k.suspensions.some((s) => s.to === Infinity))
          k.suspensions.push({ from: e.index, to: Infinity });
        return;
      }
      case 'key-reinstate': {
        const open = keys.get(n.data.kid)?.suspensions.find((s) => s.to === Infinity);
        if (open) open.to = e.index;
        return;
      }
      case 'key-revoke': {
        const k = keys.get(n.data.kid);
        if (!k) return;
        // A party revokes its own key with another of its keys (DESIGN §5); the authority any key.
        if (!byAuthority && (k.gln !== n.actor || n.data.kid === n.kid)) return;
        k.revocations.push({
          index: e.index,
          compromisedAt: Date.parse(n.data.compromisedAt),
          text: n.data.compromisedAt,
        });
        return;
      }
      case 'recall': {
        const p = partyNow.get(n.actor);
        const body = n.data.gtin.slice(1);
        // The GTIN's manufacturer: a commissioning party owning its company prefix.
        if (
          !p ||
          !p.roles.some((r) => COMMISSIONING_ROLES.has(r)) ||
          !p.prefixes.some((x) => body.startsWith(x))
        )
          return;
        const list = recalls.get(n.data.gtin) ?? [];
        list.push({
          gtin: n.data.gtin,
          ...(n.data.lot !== undefined ? { lot: n.data.lot } : {}),
          reason: n.data.reason,
        });
        recalls.set(n.data.gtin, list);
        return;
      }
    }
  }

  // Which chains are the subject's own (its receipts are always checked under 'needed').
  const records = entries.filter((e) => e.record !== null && !parseProblems.has(e));
  const ownChains = new Set<string>([subject]);
  for (const e of records) {
    const r = e.record!;
    if (r.subject === subject && (r.type === 'pack' || r.type === 'unpack') && 'parent' in r.data)
      ownChains.add(r.data.parent);
  }

  // 4. Record keys and the signature batch.
  const items: SignatureItem[] = [];
  const itemOf = new Map<Entry, number>();
  const receiptOf = new Map<Entry, number>();
  const byLeaf = new Map<string, number>();
  const paes = new PaeBatch();
  const keyProblem = new Map<Entry, ReasonCode>();
  for (const e of records) {
    const r = e.record!;
    const env = e.env!;
    const k = keys.get(env.keyid);
    let needReceipt = policy.receipts === 'all' || ownChains.has(r.subject);
    const owner = k ? undefined : policy.keyOwners.get(env.keyid);
    if (kidMismatch.has(e)) {
      // already SIGNATURE_INVALID: which key was meant is unknowable
    } else if (owner !== undefined && owner !== r.actor) {
      findings.add(
        'KEY_NOT_AUTHORIZED',
        `seq ${r.seq} by ${r.actor} is signed with key ${env.keyid}, which the registry gives to ${owner}`,
        r.subject,
        r.seq,
      );
      keyProblem.set(e, 'KEY_NOT_AUTHORIZED');
    } else if (!k || k.index > e.index) {
      findings.add(
        'KEY_UNKNOWN',
        `seq ${r.seq} is signed with key ${env.keyid}, not registered when it was logged`,
        r.subject,
        r.seq,
      );
      keyProblem.set(e, 'KEY_UNKNOWN');
    } else {
      if (k.gln !== r.actor) {
        findings.add(
          'KEY_NOT_AUTHORIZED',
          `seq ${r.seq} by ${r.actor} is signed with a key of ${k.gln}`,
          r.subject,
          r.seq,
        );
        keyProblem.set(e, 'KEY_NOT_AUTHORIZED');
      }
      if (k.revocations.length > 0 || k.suspensions.length > 0) needReceipt = true;
      const dup = byLeaf.get(e.leafHex);
      if (dup !== undefined) itemOf.set(e, dup);
      else if (checkPointEncodings(env.sig, k.publicKey)) {
        itemOf.set(e, items.length);
        byLeaf.set(e.leafHex, items.length);
        const item: SignatureItem = {
          signature: env.sig,
          message: NO_BYTES,
          publicKey: k.publicKey,
        };
        paes.push(item, env.payloadType, env.payload);
        items.push(item);
      } else e.sigOk = false;
    }
    if (needReceipt && e.logProblem === null) {
      const item = receiptItem(e);
      if (item === null) e.receiptOk = false;
      else {
        receiptOf.set(e, items.length);
        items.push(item);
      }
    }
  }
  paes.fill();
  const results: boolean[] = items.length > 0 ? yield items : [];
  for (const e of records) {
    const i = itemOf.get(e);
    if (i !== undefined) e.sigOk = results[i]!;
    const j = receiptOf.get(e);
    if (j !== undefined) e.receiptOk = results[j]!;
    const r = e.record!;
    if (e.sigOk === false)
      findings.add(
        'SIGNATURE_INVALID',
        `seq ${r.seq} signature does not verify under key ${e.env!.keyid}`,
        r.subject,
        r.seq,
      );
    if (e.receiptOk === false) receiptFailed(e);
  }
  // Revocation and suspension, judged on verified receipt times (DESIGN §6).
  for (const e of records) {
    const r = e.record!;
    const k = keys.get(e.env!.keyid);
    if (!k || kidMismatch.has(e) || keyProblem.get(e) === 'KEY_UNKNOWN' || e.receiptOk !== true)
      continue;
    const rev = k.revocations.find((x) => x.index < e.index || x.compromisedAt <= e.at);
    if (rev)
      findings.add(
        'KEY_REVOKED',
        `seq ${r.seq} was logged at ${e.receipt.integratedAt}, key ${k.kid} compromised at ${rev.text}`,
        r.subject,
        r.seq,
      );
    else if (k.suspensions.some((s) => s.from < e.index && e.index < s.to))
      findings.add(
        'KEY_REVOKED',
        `seq ${r.seq} was logged while key ${k.kid} was suspended`,
        r.subject,
        r.seq,
      );
  }

  // 5a. Chains: links and forks; the canonical chain is the first-logged record that links at each seq.
  const bySubject = new Map<string, Entry[]>();
  for (const e of records) {
    const s = e.record!.subject;
    const list = bySubject.get(s);
    if (list) list.push(e);
    else bySubject.set(s, [e]);
  }
  const canonical = new Set<Entry>();
  for (const [s, list] of bySubject) {
    list.sort((a, b) => a.record!.seq - b.record!.seq || a.index - b.index);
    let prev: string | null = null;
    let seq = 0;
    let i = 0;
    while (i < list.length) {
      const group: Entry[] = [];
      while (i < list.length && list[i]!.record!.seq === seq) {
        const e = list[i++]!;
        if (!group.some((g) => g.id === e.id)) group.push(e);
      }
      if (group.length === 0) {
        findings.add(
          'CHAIN_BROKEN',
          `seq ${seq} is missing before seq ${list[i]!.record!.seq}`,
          s,
          seq,
        );
        break;
      }
      if (group.length > 1)
        findings.add('CHAIN_FORK', `${group.length} different records claim seq ${seq}`, s, seq);
      const next = group.find((g) => g.record!.prev === prev);
      if (!next) {
        findings.add('CHAIN_BROKEN', `prev of seq ${seq} is not the id of seq ${seq - 1}`, s, seq);
        break;
      }
      canonical.add(next);
      prev = next.id;
      seq++;
    }
  }

  // 5b. Replay every canonical record, with registry events, in log order.
  const ctx = new ReplayContext();
  const present = new Set(bySubject.keys());
  const stopped = new Set<string>();
  const applied = new Map<string, Entry[]>();
  const suspendedAtRecord = new Set<string>();
  const events: ({ index: number; e: Entry } | { index: number; p: PartyEvent })[] = [
    ...[...canonical].map((e) => ({ index: e.index, e })),
    ...partyEvents.map((p) => ({ index: p.index, p })),
  ].sort((a, b) => a.index - b.index);
  const lastTime = new Map<string, string>();
  const timeSuspects: { e: Entry; message: string }[] = [];
  for (const ev of events) {
    if ('p' in ev) {
      const p = ev.p;
      const cur = ctx.parties.get(p.gln);
      if (p.kind === 'set')
        ctx.parties.set(p.gln, {
          gln: p.gln,
          roles: p.roles,
          prefixes: p.prefixes,
          status: cur?.status ?? 'active',
        });
      else if (cur) ctx.parties.set(p.gln, { ...cur, status: p.status });
      continue;
    }
    const e = ev.e;
    const r = e.record!;
    if (stopped.has(r.subject)) continue;
    // TIME_ANOMALY (DESIGN §5, §7): whatever append would refuse. Signed record
    // times first, then the claim against its receipt time (issue 10 #1).
    const t = Date.parse(r.time);
    const before = lastTime.get(r.subject);
    if (before !== undefined && t < Date.parse(before))
      findings.add(
        'TIME_ANOMALY',
        `seq ${r.seq} time ${r.time} is before the previous record's`,
        r.subject,
        r.seq,
      );
    if (t > policy.now + CLOCK_SKEW_MS)
      findings.add(
        'TIME_ANOMALY',
        `seq ${r.seq} time ${r.time} is in the future`,
        r.subject,
        r.seq,
      );
    const claim = claimedTimeProblem(r.time, e.receipt.integratedAt, null, policy.maxBackdateMs);
    if (e.at > policy.now + CLOCK_SKEW_MS)
      timeSuspects.push({
        e,
        message: `seq ${r.seq} was logged at ${e.receipt.integratedAt}, in the future`,
      });
    else if (claim !== null) timeSuspects.push({ e, message: `seq ${r.seq} ${claim.message}` });
    lastTime.set(r.subject, r.time);

    if (r.type === 'pack' && 'children' in r.data) {
      const heads = new Map<string, string>();
      for (const c of r.data.children) if (!present.has(c.subject)) heads.set(c.subject, c.head);
      ctx.absent =
        heads.size > 0 ? { container: r.subject, actor: r.actor, time: r.time, heads } : null;
    }
    // The reactivation window runs on receipt times (DESIGN §5).
    const res = applyRecord(ctx.states.get(r.subject), r, e.id, ctx, e.receipt.integratedAt);
    ctx.absent = null;
    if (!res.ok) {
      findings.add(res.code, `seq ${r.seq} ${r.type}: ${res.message}`, r.subject, r.seq);
      stopped.add(r.subject);
      continue;
    }
    ctx.states.set(r.subject, res.state);
    const list = applied.get(r.subject);
    if (list) list.push(e);
    else applied.set(r.subject, [e]);
    if (ctx.parties.get(r.actor)?.status === 'suspended') suspendedAtRecord.add(r.subject);
  }
  // Receipt-time anomalies are reported only on receipts whose signature verified.
  const unchecked = timeSuspects.filter(
    (s) => s.e.receiptOk === undefined && s.e.logProblem === null,
  );
  if (unchecked.length > 0) {
    const batch = unchecked.map((s) => receiptItem(s.e));
    const ok: boolean[] = yield batch.filter((b): b is SignatureItem => b !== null);
    let j = 0;
    unchecked.forEach((s, i) => {
      s.e.receiptOk = batch[i] === null ? false : ok[j++]!;
      if (!s.e.receiptOk) receiptFailed(s.e);
    });
  }
  for (const s of timeSuspects)
    if (s.e.receiptOk === true)
      findings.add('TIME_ANOMALY', s.message, s.e.record!.subject, s.e.record!.seq);

  // 6. Status for the purpose.
  const suspendedNow = (gln: string) => partyNow.get(gln)?.status === 'suspended';
  const allChainIssues = findings.all();

  /** Status findings of one subject (a unit, or the container itself). */
  const statusReasons = (
    s: string,
    opts2: { custody: boolean; scan: boolean; actors: Iterable<string> },
  ): Reason[] => {
    const out = new Findings();
    const state = ctx.states.get(s);
    if (!present.has(s)) {
      out.add('UNKNOWN_PRODUCT', `no chain for ${s} in the bundle`, s);
      return out.all();
    }
    // A chain that did not replay to its end has no current state to judge.
    if (state === undefined || stopped.has(s)) return out.all();
    for (const a of opts2.actors)
      if (suspendedNow(a)) {
        out.add('PARTY_SUSPENDED', `party ${a} in the chain of ${s} is suspended`, s);
        break;
      }
    if (suspendedAtRecord.has(s))
      out.add('PARTY_SUSPENDED', `a record of ${s} was logged while its actor was suspended`, s);
    const p = state.product;
    if (p) {
      if (!state.active)
        out.add(
          'DECOMMISSIONED',
          `${s} was decommissioned (${state.decommission?.reason ?? 'unknown'})`,
          s,
        );
      const recall = recalls.get(p.gtin)?.find((x) => x.lot === undefined || x.lot === p.lot);
      if (recall)
        out.add(
          'RECALLED',
          `GTIN ${p.gtin}${recall.lot ? ` lot ${recall.lot}` : ''} is recalled: ${recall.reason}`,
          s,
        );
      if (p.expiry < policy.today) out.add('EXPIRED', `${s} expired on ${p.expiry}`, s);
      if (opts2.scan) {
        if (policy.scan.lot !== undefined && policy.scan.lot !== p.lot)
          out.add('LOT_MISMATCH', `scanned lot ${policy.scan.lot}, commissioned lot ${p.lot}`, s);
        if (policy.scan.expiry !== undefined && !sameLabelExpiry(policy.scan.expiry, p.expiry))
          out.add(
            'EXPIRY_MISMATCH',
            `scanned expiry ${policy.scan.expiry}, commissioned expiry ${p.expiry}`,
            s,
          );
      }
    }
    const eff = effectiveCustody(state, ctx);
    const hold = opts2.custody ? eff.quarantined : state.quarantined;
    if (hold) out.add('IN_QUARANTINE', `${s} is on hold (case ${hold.case})`, s);
    if (opts2.custody && policy.party !== null && policy.purpose !== 'saleable_return') {
      // Receiving (or dispensing) what you already hold is fine: re-verification.
      const ok = eff.inTransit ? eff.inTransit.to === policy.party : eff.custodian === policy.party;
      if (!ok) {
        const why = eff.inTransit
          ? `the last shipment${eff.via ? ` (of ${eff.via})` : ''} is addressed to ${eff.inTransit.to}`
          : `it is held by ${eff.custodian} and was not shipped to ${policy.party}`;
        out.add('NOT_SHIPPED_TO_YOU', `${s}: ${why}`, s);
      }
    }
    return out.all();
  };

  const actorsOf = (list: readonly Entry[] | undefined): Set<string> =>
    new Set((list ?? []).map((e) => e.record!.actor));
  // A contained subject travels with its container, and that container with its own
  // (DESIGN §5: containers nest): their records count while it is inside.
  const timeline = (s: string, outer: ReadonlySet<string> = new Set()): Entry[] => {
    const own = applied.get(s) ?? [];
    const out = [...own];
    const seen = new Set(outer).add(s);
    for (let i = 0; i < own.length; i++) {
      const r = own[i]!.record!;
      if (r.type !== 'pack' || !('parent' in r.data) || seen.has(r.data.parent)) continue;
      const from = own[i]!.index;
      const exit = own
        .slice(i + 1)
        .find((x) => x.record!.type === 'unpack' && 'parent' in x.record!.data);
      const to = exit ? exit.index : Infinity;
      for (const c of timeline(r.data.parent, seen))
        if (c.index > from && c.index < to) out.push(c);
    }
    return out.sort(byIndex);
  };
  /** The children a subject was packed with: its replayed state's, else its canonical pack's. */
  const packedChildren = (s: string): readonly ChainChild[] => {
    const st = ctx.states.get(s);
    if (st && st.children.length > 0) return st.children;
    for (const e of bySubject.get(s) ?? []) {
      const r = e.record;
      if (r && canonical.has(e) && r.type === 'pack' && 'children' in r.data)
        return r.data.children;
    }
    return NO_CHILDREN;
  };

  const state = ctx.states.get(subject);
  const container =
    subjectParts(subject)?.kind === 'container' || packedChildren(subject).length > 0;
  const result: VerificationResult = {
    verdict: 'accept',
    reasons: [],
    subject,
    status: 'unknown',
    custodian: null,
    custody: [],
    checkpoint: { origin, size, rootHash: toHex(rootHash) },
  };
  const top = new Findings();
  /** the container's children still inside it at the checkpoint (a scan of one is covered) */
  const insideNow = new Set<string>();
  const own = timeline(subject);
  result.custody = own.map(toTimeline);
  if (!container) {
    for (const r of allChainIssues) top.addReason(r);
    for (const r of statusReasons(subject, { custody: true, scan: true, actors: actorsOf(own) }))
      top.addReason(r);
  } else {
    // Units: every subject the container was packed with, at every level (DESIGN §5, §7).
    const members = descendants(subject, packedChildren, (child, parent) => {
      const cs = ctx.states.get(child);
      return cs !== undefined && cs.containedIn === parent && !ctx.states.get(parent)?.unpacked;
    });
    const childSet = new Set(members.map((m) => m.subject));
    const unitIssues = new Map<string, Reason[]>();
    for (const r of allChainIssues) {
      if (r.subject !== undefined && childSet.has(r.subject)) {
        const l = unitIssues.get(r.subject);
        if (l) l.push(r);
        else unitIssues.set(r.subject, [r]);
      } else top.addReason(r);
    }
    for (const r of statusReasons(subject, { custody: true, scan: false, actors: actorsOf(own) }))
      top.addReason(r);
    const counts: Record<Verdict, number> = { accept: 0, quarantine: 0, reject: 0 };
    const failing: UnitFailure[] = [];
    const perCode = new Map<ReasonCode, { n: number; first: Reason }>();
    for (const c of members) {
      // Still inside this container (every level): its custody and holds are the container's, judged above.
      const inside = c.inside;
      if (inside) insideNow.add(c.subject);
      const rs = [
        ...(unitIssues.get(c.subject) ?? []),
        ...statusReasons(c.subject, {
          custody: !inside,
          scan: false,
          actors: actorsOf(applied.get(c.subject)),
        }),
      ];
      const verdict = verdictOf(rs.map((r) => r.code));
      counts[verdict]++;
      if (rs.length > 0) {
        failing.push({ subject: c.subject, verdict, reasons: sortReasons(rs) });
        for (const r of rs) {
          const agg = perCode.get(r.code);
          if (agg) agg.n++;
          else perCode.set(r.code, { n: 1, first: r });
        }
      }
    }
    for (const [code, { n, first }] of perCode)
      top.add(code, `${n} of ${members.length} units: ${first.message}`);
    result.units = { total: members.length, counts, failing };
  }

  if (state) {
    const eff = effectiveCustody(state, ctx);
    result.custodian = eff.custodian;
    result.status =
      !state.active || state.unpacked
        ? 'inactive'
        : eff.quarantined
          ? 'quarantined'
          : eff.inTransit
            ? 'in_transit'
            : 'active';
    if (state.product) {
      const { gtin, serial, lot, expiry, details } = state.product;
      result.product = { gtin, serial, lot, expiry, ...(details ? { details } : {}) };
    }
  }

  // CHECKPOINT_STALE: the fetch time, else the newest witness cosignature, else the newest receipt.
  if (policy.maxAgeMs !== null) {
    let at = policy.checkpointTime;
    if (at === null && cp.cosignatures.length > 0)
      at = Math.max(...cp.cosignatures.map((c) => c.timestamp * 1000));
    // A loop, not Math.max(...): a bundle may hold 250,000 entries.
    if (at === null) for (const e of entries) if (at === null || e.at > at) at = e.at;
    if (at === null || policy.now - at > policy.maxAgeMs)
      top.add(
        'CHECKPOINT_STALE',
        at === null
          ? 'the checkpoint time is unknown'
          : `the checkpoint is ${Math.round((policy.now - at) / 1000)} s old; the policy allows ${policy.maxAgeMs / 1000} s`,
      );
  }

  subjectMismatch(policy, subject, top, (s) => insideNow.has(s));
  result.reasons = sortReasons(top.all());
  result.verdict = verdictOf(result.reasons.map((r) => r.code));
  return result;
}

/**
 * SUBJECT_MISMATCH (DESIGN §7 offline): the evidence must be about what was scanned,
 * or about the logistic unit a scanned unit is still inside (`covers`). A bundle
 * fetched for one serial proves nothing about another.
 */
function subjectMismatch(
  policy: Policy,
  subject: string,
  out: Findings,
  covers: (scanned: string) => boolean,
): void {
  const scanned = policy.scannedSubject;
  if (scanned === null || scanned === subject || covers(scanned)) return;
  out.add(
    'SUBJECT_MISMATCH',
    `the bundle is for ${subject || 'no valid subject'}, the scanned code is ${scanned}`,
    scanned,
  );
}

/**
 * Every subject packed in `root`, at every level, parents before their children
 * (depth first, in pack order). `inside` holds when the subject and every container
 * between it and `root` are still inside their parents. Iterative and visited-checked:
 * the bundle is attacker-controlled and may be deep or cyclic.
 */
function descendants(
  root: string,
  childrenOf: (s: string) => readonly ChainChild[],
  stillIn: (child: string, parent: string) => boolean,
): { subject: string; inside: boolean }[] {
  const out: { subject: string; inside: boolean }[] = [];
  const seen = new Set([root]);
  const stack: { subject: string; parent: string; parentInside: boolean }[] = [];
  const push = (parent: string, parentInside: boolean) => {
    const cs = childrenOf(parent);
    for (let i = cs.length - 1; i >= 0; i--)
      stack.push({ subject: cs[i]!.subject, parent, parentInside });
  };
  push(root, true);
  for (let t = stack.pop(); t !== undefined; t = stack.pop()) {
    if (seen.has(t.subject)) continue;
    seen.add(t.subject);
    const inside = t.parentInside && stillIn(t.subject, t.parent);
    out.push({ subject: t.subject, inside });
    push(t.subject, inside);
  }
  return out;
}

function byIndex(a: { index: number }, b: { index: number }): number {
  return a.index - b.index;
}

function issues(errors: readonly { path: string; message: string }[]): string {
  return errors
    .slice(0, 3)
    .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
    .join('; ');
}

function toTimeline(e: Entry): TimelineEntry {
  const r = e.record!;
  const t: TimelineEntry = {
    subject: r.subject,
    seq: r.seq,
    type: r.type,
    actor: r.actor,
    time: r.time,
    receiptTime: e.receipt.integratedAt,
    index: e.index,
    id: e.id,
  };
  if (r.type === 'ship') {
    t.to = r.data.to;
    t.shipment = r.data.shipment;
  } else if (r.type === 'receive') {
    t.from = r.data.from;
    t.shipment = r.data.shipment;
  }
  return t;
}

/**
 * A scanned expiry matches the commissioned one when the label would print it
 * so: AI 17 carries YYMMDD only (GS1 General Specifications §7.12 picks the
 * century by the reader's clock), so the scan's century can differ from a
 * commissioned date more than 50 years away; both are YYYY-MM-DD.
 */
function sameLabelExpiry(scanned: string, commissioned: string): boolean {
  return scanned.slice(2) === commissioned.slice(2);
}
