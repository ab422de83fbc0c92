// One pass of the monitor over consecutive log entries (DESIGN §7b): each
// entry verified once, in log order, against the state verified before it.
//  1. leaf: SHA-256(0x00 || JCS(envelope)) equals the stored leaf hash and the
//     tree's level-0 node; the stored record (or notice) row is exactly the
//     logged one (same bytes, same columns);
//  2. log receipt signed by the log key over {origin, index, leafHash, integratedAt};
//  3. envelope signature under the registry as of that entry (keys and parties
//     from notices verified earlier); notices update the registry;
//  4. records: chain link (seq/prev), the DESIGN §5 time rules and the custody
//     state machine of core (applyRecord, shared with append and the engine);
//  5. every checkpoint the pass reaches: its signature by the log key and its
//     root recomputed from the verified leaves (so it is consistent with every
//     earlier one: both are roots over the same leaves).
// Anything that fails is an alarm on the subjects it touches (or on the log);
// an alarmed subject's state stops at its last good record. Pure but for the
// injected signature check; the caller loads and stores state.
import {
  applyRecord,
  bytesEqual,
  canonicalize,
  claimedTimeProblem,
  encodeVerifiedState,
  fromBase64,
  fromDsseBase64,
  LEAF_PREFIX,
  NOTICE_PAYLOAD_TYPE,
  pae,
  parseNoticePayload,
  parseRecordPayload,
  referencedSubjects,
  RECORD_PAYLOAD_TYPE,
  receiptMessageBuilder,
  verifyCheckpoint,
  type ChainChild,
  type ChainState,
  type CustodyContext,
  type CustodyRecord,
  type Ed25519Backend,
  type Notice,
  type NoteVerifierKey,
  type PartyInfo,
  type ReasonCode,
  type SignatureItem,
  verify as verifySignature,
} from '@provenant/core';
import type { MonitoredLeaf } from '@provenant/store';
import type { Frontier, Sha256 } from './frontier.js';
import type { Registry } from './registry.js';

/** Public trust material only (DESIGN §7b). */
export interface MonitorTrust {
  origin: string;
  logKey: NoteVerifierKey;
  authority: { kid: string; publicKey: Uint8Array };
}

/** One finding of a pass: an alarm to raise. */
export interface Finding {
  index: number | null;
  /** subjects it makes reject (none: the log itself) */
  subjects: string[];
  code: ReasonCode;
  message: string;
}

/** A LOG_PROOF_INVALID finding on the log itself: an alarm that names no subject. */
export function logFinding(index: number | null, message: string): Finding {
  return { index, subjects: [], code: 'LOG_PROOF_INVALID', message };
}

/**
 * A parsed entry waiting for its signature results: what `finish` needs of
 * its leaf, not the leaf (its envelope, payloads and rows die young, not
 * after the batches queued at the workers: less to copy and collect).
 */
export interface Pending {
  index: number;
  integratedAt: string;
  /** the stored row's subject and kid (null: no row) */
  rowSubject: string | null;
  rowKid: string | null;
  /** what the structural checks found, raised in log order by `finish` */
  problems: Finding[];
  record: CustodyRecord | null;
  id: string;
  /** which signature chunk holds its items */
  chunk: number;
  sigItem: number | null;
  receiptItem: number | null;
  keyProblem: ReasonCode | null;
}

/** A pass begun (`MonitorState.begin`): its entries parsed, their signatures being checked. */
export interface BegunPass {
  /** entries [start, end) */
  readonly start: number;
  readonly end: number;
  readonly pending: Pending[];
  readonly checks: Promise<boolean[]>[];
  /** the checkpoints' findings, found as the pass reached them */
  readonly findings: Finding[];
}

/**
 * Entries whose signatures go to the check together. The pass sends each
 * chunk as soon as its entries are parsed, so the workers verify one chunk
 * while this thread parses the next (two signatures per entry: 512 items, two
 * worker messages of 256).
 */
export const SIGNATURE_CHUNK = 256;

/**
 * Stored form of a verified state (migration 000015): core's versioned
 * encoding of the ChainState and its head's log index; no subject (the key),
 * no children (verifier_children).
 */
export function toStored(state: ChainState, headIndex: number): Uint8Array {
  return encodeVerifiedState(state, headIndex);
}

/**
 * A ChainState from its stored form as the store decoded it (VerifiedSubject.state).
 * @throws Error when there is none (a subject with an alarm and no verified record: check headIndex first).
 */
export function fromStored(
  subject: string,
  stored: ChainState | null,
  children: readonly ChainChild[],
): ChainState {
  if (stored === null) throw new Error(`${subject} has no verified state`);
  return { ...stored, subject, children };
}

const UTF8 = new TextEncoder();

/** Lets the event loop run (pending I/O and timers) before going on. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// A pass parses each entry once: subjectsOf (for loading states) and the checks share it.
const parsedEntries = new WeakMap<MonitoredLeaf, ReturnType<typeof parseEntryOnce>>();
const parsedRecords = new WeakMap<MonitoredLeaf, ReturnType<typeof parseRecordPayload>>();

function parseEntry(leaf: MonitoredLeaf): ReturnType<typeof parseEntryOnce> {
  let p = parsedEntries.get(leaf);
  if (p === undefined) parsedEntries.set(leaf, (p = parseEntryOnce(leaf)));
  return p;
}

function parseRecord(
  leaf: MonitoredLeaf,
  payload: Uint8Array,
  sha256: Sha256 | undefined,
): ReturnType<typeof parseRecordPayload> {
  let r = parsedRecords.get(leaf);
  if (r === undefined)
    parsedRecords.set(leaf, (r = parseRecordPayload(payload, sha256 ? { sha256 } : undefined)));
  return r;
}

/**
 * Equality of two JSON values as their JCS forms would compare (DESIGN §4),
 * without writing either: same types, numbers and strings equal, arrays
 * element by element, objects with the same keys and equal values.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
      return false;
  }
  return true;
}

/** Parses an entry's envelope and payload; a string says what is wrong. */
function parseEntryOnce(
  leaf: MonitoredLeaf,
): { env: { payloadType: string; payload: Uint8Array; keyid: string; sig: Uint8Array } } | string {
  let json: unknown;
  try {
    json = JSON.parse(leaf.envelopeText);
  } catch {
    return 'envelope is not JSON';
  }
  const e = json as {
    payloadType?: unknown;
    payload?: unknown;
    signatures?: { keyid?: unknown; sig?: unknown }[];
  } | null;
  if (typeof e !== 'object' || e === null) return 'envelope is not an object';
  const want = leaf.kind === 'record' ? RECORD_PAYLOAD_TYPE : NOTICE_PAYLOAD_TYPE;
  if (e.payloadType !== want) return `payloadType is not ${want}`;
  const payload = typeof e.payload === 'string' ? base64Of(e.payload, fromDsseBase64) : null;
  if (payload === null) return 'payload is not base64';
  const s = Array.isArray(e.signatures) && e.signatures.length === 1 ? e.signatures[0] : null;
  const sig = typeof s?.sig === 'string' ? base64Of(s.sig, fromBase64) : null;
  if (!s || typeof s.keyid !== 'string' || sig === null || sig.length !== 64)
    return 'envelope does not carry one Ed25519 signature';
  return { env: { payloadType: want, payload, keyid: s.keyid, sig } };
}

/**
 * A structural problem of an entry, raised in log order by `finish`: on the
 * stored row's subject and `extra` (the logged payload's subject, when it differs).
 */
function problem(p: Pending, code: ReasonCode, message: string, extra: string | null = null): void {
  const own = p.rowSubject;
  const subjects = own ? [own] : [];
  if (extra !== null && extra !== own) subjects.push(extra);
  p.problems.push({
    index: p.index,
    subjects,
    code,
    message: `log entry ${p.index}: ${message}`,
  });
}

/**
 * `strict(text)` by node's decoder when `text` is canonical padded base64 (it
 * encodes back to itself, so the strict decoder would return the same bytes);
 * any other spelling is left to the strict decoder, which says yes or no.
 */
function base64Of(text: string, strict: (t: string) => Uint8Array | null): Uint8Array | null {
  const b = Buffer.from(text, 'base64');
  if (b.toString('base64') !== text) return strict(text);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Lowercase hex of a digest (node's encoder: one per entry on the monitor's path). */
function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The stored row differs from the logged entry: which column. */
function rowDiffers(
  leaf: MonitoredLeaf,
  payload: Uint8Array,
  id: string,
  parsed: CustodyRecord | Notice,
): string | null {
  const row = leaf.row;
  if (row === null) return `no ${leaf.kind} row is stored for log entry ${leaf.index}`;
  if (row.id !== id || leaf.entryId !== id)
    return 'its id is not the SHA-256 of the logged payload';
  // Byte for byte, in this process: not a digest computed by the database it watches.
  if (!bytesEqual(row.payload, payload)) return 'its payload differs from the logged one';
  if (row.envelope !== null && canonicalize(row.envelope) !== leaf.envelopeText)
    return 'its envelope differs from the logged one';
  const r = parsed as { subject?: string; seq?: number; prev?: string | null };
  if (
    leaf.kind === 'record' &&
    (row.subject !== r.subject || row.seq !== r.seq || row.prev !== (r.prev ?? null))
  )
    return 'its subject, seq or prev differ from the logged record';
  if (row.type !== parsed.type || row.actor !== parsed.actor || row.kid !== parsed.kid)
    return 'its type, actor or kid differ from the logged payload';
  // Equal text is an equal time: the stored time is to_char's ISO form (always a time, as
  // toISOString writes it, as clients do), so only texts that differ are parsed.
  if (row.time !== parsed.time && Date.parse(row.time) !== Date.parse(parsed.time))
    return 'its time differs from the logged payload';
  if (!jsonEqual(row.data ?? {}, parsed.data ?? {}))
    return 'its data differ from the logged payload';
  return null;
}

/**
 * The monitor's verified state in memory and the pass over entries. The
 * monitor keeps one across batches (states loaded on demand); the audit
 * builds a fresh one from index 0.
 */
export class MonitorState implements CustodyContext {
  readonly states = new Map<string, ChainState>();
  /** log index of each subject's verified head */
  readonly headIndex = new Map<string, number>();
  /** subjects alarmed (their state no longer moves) */
  readonly alarmed = new Set<string>();
  /** subjects whose state changed since the last takeChanged */
  private changed = new Set<string>();
  /** newest verified checkpoint */
  checkpoint: { size: number; rootHash: Uint8Array; note: string } | null = null;

  constructor(
    readonly trust: MonitorTrust,
    readonly registry: Registry,
    readonly frontier: Frontier,
    private readonly sha256: Sha256,
    private readonly backend: Ed25519Backend,
    /** PROVENANT_MAX_BACKDATE in ms; undefined: core's default (72 h) */
    private readonly maxBackdateMs?: number,
  ) {
    this.receiptMessage = receiptMessageBuilder(trust.origin);
  }

  get next(): number {
    return this.frontier.size;
  }

  /** The party as of the record being finished (notices after it are already applied). */
  party(gln: string): PartyInfo | undefined {
    return this.registry.partyAt(gln, this.asOf);
  }
  /** log index of the record `finish` judges */
  private asOf = Infinity;

  state(subject: string): ChainState | undefined {
    return this.states.get(subject);
  }

  /** Subjects a pass over `leaves` reads (theirs and those their records reference), for loading. */
  static subjectsOf(leaves: readonly MonitoredLeaf[], sha256?: Sha256): string[] {
    const out = new Set<string>();
    for (const leaf of leaves) {
      if (leaf.row?.subject) out.add(leaf.row.subject);
      const parsed = parseEntry(leaf);
      if (typeof parsed === 'string' || leaf.kind !== 'record') continue;
      const r = parseRecord(leaf, parsed.env.payload, sha256);
      if (!r.ok) continue;
      out.add(r.record.subject);
      for (const s of referencedSubjects(r.record)) out.add(s);
    }
    return [...out];
  }

  /** Changed subjects since the last call, with their stored form. */
  takeChanged(): {
    subject: string;
    seq: number;
    headIndex: number;
    state: Uint8Array;
    children: readonly ChainChild[];
  }[] {
    const out = [...this.changed].map((s) => {
      const st = this.states.get(s)!;
      return {
        subject: s,
        seq: st.seq,
        headIndex: this.headIndex.get(s)!,
        state: toStored(st, this.headIndex.get(s)!),
        children: st.children,
      };
    });
    this.changed.clear();
    return out;
  }

  /**
   * Verifies `leaves` (consecutive, starting at `this.next`) and the
   * `checkpoints` whose sizes the pass reaches. States of every subject in
   * {@link subjectsOf} must be loaded. Returns the findings; state moves on.
   * @throws Error when the leaves do not start at `this.next` (misuse).
   */
  async pass(
    leaves: readonly MonitoredLeaf[],
    checkpoints: readonly { size: number; rootHash: Uint8Array; note: string }[],
    signatureCheck: (items: readonly SignatureItem[]) => Promise<boolean[]>,
  ): Promise<Finding[]> {
    return this.end(await this.begin(leaves, checkpoints, signatureCheck));
  }

  /**
   * The first half of {@link pass}: the structural checks of `leaves` in log
   * order (leaf hash, stored row, receipt message, notices applied to the
   * registry, the frontier and the checkpoints it reaches), their signatures
   * sent to `signatureCheck` chunk by chunk. The next pass may begin before
   * this one ends (its entries parse while these signatures are checked);
   * passes end in the order they began, and the states of a pass's
   * {@link subjectsOf} must be loaded before it ends. It lets the event
   * loop run after each chunk (requests wait a chunk, not a batch); nothing
   * else may use this state until it resolves.
   * @throws Error when the leaves do not start at `this.next` (misuse).
   */
  async begin(
    leaves: readonly MonitoredLeaf[],
    checkpoints: readonly { size: number; rootHash: Uint8Array; note: string }[],
    signatureCheck: (items: readonly SignatureItem[]) => Promise<boolean[]>,
  ): Promise<BegunPass> {
    const start = this.next;
    const findings: Finding[] = [];
    const pending: Pending[] = [];
    const checks: Promise<boolean[]>[] = [];
    let items: SignatureItem[] = [];
    const send = () => {
      const c = items.length > 0 ? signatureCheck(items) : Promise.resolve([]);
      c.catch(() => {}); // observed by end; a misuse error before then must not leave it unhandled
      checks.push(c);
      items = [];
    };
    let cps = 0;
    for (const leaf of leaves) {
      if (leaf.index !== this.next)
        throw new Error(`monitor pass expected entry ${this.next}, got ${leaf.index}`);
      pending.push(this.structural(leaf, items, checks.length));
      // The tree is the stored one: a changed envelope is this entry's alarm, a changed
      // tree the checkpoint's (its signed root cannot be recomputed).
      this.frontier.push(leaf.nodeHash ?? leaf.leafHash);
      while (cps < checkpoints.length && checkpoints[cps]!.size <= this.next) {
        const cp = checkpoints[cps++]!;
        if (cp.size === this.next) this.checkCheckpoint(cp, findings);
      }
      if (pending.length % SIGNATURE_CHUNK === 0) {
        send();
        await turn();
      }
    }
    if (pending.length % SIGNATURE_CHUNK !== 0) send();
    return { start, end: this.next, pending, checks, findings };
  }

  /**
   * The second half of {@link pass}: once its signatures are known, each
   * record judged in log order against the states of the records before it.
   * Returns the pass's findings.
   */
  async end(p: BegunPass): Promise<Finding[]> {
    const results = await Promise.all(p.checks);
    const findings = p.findings;
    for (const e of p.pending) this.finish(e, results[e.chunk]!, findings);
    this.asOf = Infinity;
    this.registry.settle(p.end);
    return findings;
  }

  /** Step 1, the receipt and the signature items; notices are applied at once (few, and later keys depend on them). */
  private structural(leaf: MonitoredLeaf, items: SignatureItem[], chunk: number): Pending {
    const p: Pending = {
      index: leaf.index,
      integratedAt: leaf.integratedAt,
      rowSubject: leaf.row?.subject ?? null,
      rowKid: leaf.row?.kid ?? null,
      problems: [],
      record: null,
      id: '',
      chunk,
      sigItem: null,
      receiptItem: null,
      keyProblem: null,
    };
    const computed = this.leafHashOf(leaf.envelopeText);
    if (computed === null || !bytesEqual(computed, leaf.leafHash))
      problem(p, 'LOG_PROOF_INVALID', 'the stored envelope does not hash to its leaf hash');
    else if (leaf.nodeHash === null || !bytesEqual(leaf.nodeHash, leaf.leafHash))
      problem(p, 'LOG_PROOF_INVALID', 'the tree does not hold its leaf hash');
    const parsed = parseEntry(leaf);
    if (typeof parsed === 'string') {
      problem(p, 'SIGNATURE_INVALID', parsed);
      return p;
    }
    const { env } = parsed;
    const rec = leaf.kind === 'record' ? parseRecord(leaf, env.payload, this.sha256) : null;
    const not =
      leaf.kind === 'notice' ? parseNoticePayload(env.payload, { sha256: this.sha256 }) : null;
    const ok = rec?.ok ? rec : not?.ok ? not : null;
    if (ok === null) {
      problem(p, 'SIGNATURE_INVALID', 'its payload does not parse');
      return p;
    }
    const record = rec?.ok ? rec.record : null;
    const notice = not?.ok ? not.notice : null;
    const payloadSubject = record ? record.subject : null;
    const diff = rowDiffers(leaf, env.payload, ok.id, (record ?? notice)!);
    if (diff) problem(p, 'LOG_PROOF_INVALID', `the stored ${leaf.kind}: ${diff}`, payloadSubject);
    if ((record ?? notice)!.kid !== env.keyid) {
      problem(p, 'SIGNATURE_INVALID', 'the payload kid is not the envelope keyid', payloadSubject);
      return p;
    }
    const receipt: SignatureItem = {
      signature: leaf.receiptSignature,
      message: this.receiptMessage(leaf.index, hexOf(leaf.leafHash), leaf.integratedAt),
      publicKey: this.trust.logKey.publicKey,
    };
    if (notice) {
      // Notices change the registry later entries are judged by: checked now.
      if (!verifySignature(receipt.signature, receipt.message, receipt.publicKey, this.backend)) {
        problem(p, 'LOG_PROOF_INVALID', 'its receipt does not verify under the log key');
        return p;
      }
      const signer = this.registry.noticeSigner(
        notice,
        env.keyid,
        leaf.index,
        this.trust.authority,
      );
      if (signer === null) return p; // not a notice the registry counts (the engine ignores it too)
      if (!verifySignature(env.sig, pae(env.payloadType, env.payload), signer, this.backend)) {
        problem(p, 'SIGNATURE_INVALID', `${notice.type} notice signature does not verify`);
        return p;
      }
      this.registry.apply(notice, leaf.index);
      return p;
    }
    const r = record!;
    const k = this.registry.keys.get(env.keyid);
    const usable = k ? this.registry.usableAt(k, leaf.index) : 'unknown';
    if (!k || usable === 'unknown') p.keyProblem = 'KEY_UNKNOWN';
    else if (k.gln !== r.actor) p.keyProblem = 'KEY_NOT_AUTHORIZED';
    else if (usable === 'revoked') p.keyProblem = 'KEY_REVOKED';
    if (k) {
      p.sigItem = items.length;
      items.push({
        signature: env.sig,
        message: pae(env.payloadType, env.payload),
        publicKey: k.publicKey,
      });
    }
    p.receiptItem = items.length;
    items.push(receipt);
    p.record = r;
    p.id = ok.id;
    return p;
  }

  /** Steps 3-4 for a record, once its signatures are known. */
  private finish(p: Pending, results: boolean[], findings: Finding[]): void {
    for (const f of p.problems) {
      for (const s of f.subjects) this.alarmed.add(s);
      findings.push(f);
    }
    if (p.record === null) return;
    const r = p.record;
    if (p.receiptItem !== null && !results[p.receiptItem])
      this.recordAlarm(
        p,
        findings,
        'LOG_PROOF_INVALID',
        'its receipt does not verify under the log key',
      );
    if (p.keyProblem)
      this.recordAlarm(
        p,
        findings,
        p.keyProblem,
        `key ${p.rowKid ?? r.kid} may not sign it when it was logged`,
      );
    else if (p.sigItem !== null && !results[p.sigItem])
      this.recordAlarm(p, findings, 'SIGNATURE_INVALID', 'its signature does not verify');
    if (this.alarmed.has(r.subject)) return; // replayed up to its first failure, as the engine does
    const prev = this.states.get(r.subject);
    this.asOf = p.index;
    const timing = claimedTimeProblem(r.time, p.integratedAt, prev?.lastTime, this.maxBackdateMs);
    if (timing) return this.recordAlarm(p, findings, 'TIME_ANOMALY', timing.message);
    const applied = applyRecord(prev, r, p.id, this, p.integratedAt);
    if (!applied.ok) return this.recordAlarm(p, findings, applied.code, applied.message);
    this.states.set(r.subject, applied.state);
    this.headIndex.set(r.subject, p.index);
    this.changed.add(r.subject);
  }

  /** An alarm on a parsed record's subject (its state stops here). */
  private recordAlarm(p: Pending, findings: Finding[], code: ReasonCode, message: string): void {
    const r = p.record!;
    this.alarmed.add(r.subject);
    findings.push({
      index: p.index,
      subjects: [r.subject],
      code,
      message: `log entry ${p.index} (${r.subject} seq ${r.seq}): ${message}`,
    });
  }

  /** Step 5: the checkpoint's signature, and its root against the verified leaves. */
  private checkCheckpoint(
    cp: { size: number; rootHash: Uint8Array; note: string },
    findings: Finding[],
  ): void {
    const problem = this.checkpointProblem(cp);
    if (problem) {
      findings.push(logFinding(null, `checkpoint ${cp.size}: ${problem}`));
      return;
    }
    this.checkpoint = cp;
  }

  /**
   * What is wrong with a stored checkpoint of at most `next` entries (DESIGN
   * §6): its note does not verify under the log key, its signed root is not
   * the root of the entries verified (known at `next` only), or its stored
   * size or root is not the signed one. Null when nothing is.
   */
  checkpointProblem(cp: { size: number; rootHash: Uint8Array; note: string }): string | null {
    const v = verifyCheckpoint(cp.note, this.trust.logKey, {
      origin: this.trust.origin,
      backend: this.backend,
    });
    if (!v.ok) return `its signature does not verify (${v.code})`;
    const signed = v.checkpoint;
    if (
      cp.size === this.next &&
      (signed.size !== cp.size || !bytesEqual(signed.rootHash, this.frontier.root()))
    )
      return 'its signed root is not the root of the logged entries';
    if (signed.size !== cp.size || !bytesEqual(signed.rootHash, cp.rootHash))
      return 'its stored size or root differs from the signed one';
    return null;
  }

  /** RFC 6962 leaf hash of the stored envelope text (DESIGN §6: JCS(envelope), as the sequencer wrote it). */
  private leafHashOf(text: string): Uint8Array | null {
    // UTF-8 is at most 3 bytes per UTF-16 unit: encoded in place after the prefix, no copies.
    if (this.leafBuf.length < 1 + 3 * text.length)
      this.leafBuf = new Uint8Array(Math.max(4096, 2 * (1 + 3 * text.length)));
    const buf = this.leafBuf;
    buf[0] = LEAF_PREFIX; // RFC 6962 §2.1: leaf = H(0x00 || entry)
    const { written } = UTF8.encodeInto(text, buf.subarray(1));
    return this.sha256(buf.subarray(0, 1 + written));
  }
  /** reused by leafHashOf (the hash copies nothing out of it) */
  private leafBuf = new Uint8Array(0);
  /** JCS({origin, index, leafHash, integratedAt}) for this log's origin (DESIGN §6) */
  private readonly receiptMessage: ReturnType<typeof receiptMessageBuilder>;
}
