// Test helper: a whole supply chain in memory. Parties and keys registered by
// an authority, honest records signed through core (commission, pack, ship,
// receive, unpack, ...), every envelope logged in an in-memory Merkle tree with
// a signed receipt (DESIGN §6), checkpoints (optionally cosigned by witnesses)
// and offline bundles in exactly the shape of bundle.ts. Hooks let a test sign
// with the wrong key, edit a payload before or after signing, fork a chain,
// backdate a receipt, revoke, recall and suspend, so that every reason code of
// DESIGN §7 can be produced on purpose. Used by verify.test.ts, the service
// tests and the benchmark. Deterministic: keys derive from names, the clock is
// a counter.
import type { Bundle, BundleEntry, LogReceipt } from '../bundle.js';
import { toBase64, toBase64Url, toHex, utf8 } from '../bytes.js';
import { NOTICE_PAYLOAD_TYPE, RECORD_PAYLOAD_TYPE, signEnvelope, type Envelope } from '../dsse.js';
import { keyId, nobleBackend, publicKeyFromSeed, sign, type Ed25519Backend } from '../ed25519.js';
import { sha256, sha256Hex } from '../hash.js';
import { canonicalBytes } from '../jcs.js';
import { MerkleTree, leafHash } from '../merkle.js';
import { addSignatureLines, cosignCheckpoint, encodeVerifierKey, signCheckpoint } from '../note.js';
import type { Notice, PartyRole } from '../notices.js';
import { containerSubject, unitSubject, type CustodyRecord, type RecordType } from '../records.js';
import type { Trust } from '../verify.js';

/** A signing key: the 32-byte seed (secret), its public key and kid. */
export interface TestKey {
  seed: Uint8Array;
  publicKey: Uint8Array;
  kid: string;
}

export interface TestParty {
  gln: string;
  name: string;
  roles: PartyRole[];
  prefixes: string[];
  /** the key records are signed with by default (the newest registered) */
  key: TestKey;
  keys: TestKey[];
}

/** One logged envelope. */
export interface LoggedEntry {
  kind: 'record' | 'notice';
  envelope: Envelope;
  receipt: LogReceipt;
  /** record or notice id: SHA-256 of the payload bytes */
  id: string;
  record?: CustodyRecord;
  notice?: Notice;
}

export interface SignOptions {
  /** sign with this key instead of the actor's current key */
  key?: TestKey;
  /** payload kid (default: the kid of the signing key) */
  kid?: string;
  /** record time (default: the builder's clock after a one-minute tick) */
  time?: string;
  /** receipt integratedAt (default: record time + 1 s) */
  integratedAt?: string;
  /** edit the payload object before it is canonicalized and signed */
  mutate?: (payload: Record<string, unknown>) => void;
  /** edit the envelope after signing, before it is logged */
  tamper?: (envelope: Envelope) => Envelope;
  /** do not log it: return the signed envelope only (for bundle surgery) */
  unlogged?: boolean;
}

export interface RecordOptions extends SignOptions {
  /** link overrides, for forks and broken chains */
  seq?: number;
  prev?: string | null;
  /** keep the subject's head where it was (the record is logged but the builder ignores it) */
  keepHead?: boolean;
}

export interface BundleOptions {
  /** prove against this checkpoint (default: a fresh one at the current size) */
  checkpoint?: string;
  /** witnesses to cosign the fresh checkpoint (the first n of the builder's) */
  witnesses?: number;
  /** drop entries from the bundle */
  omit?: (entry: LoggedEntry) => boolean;
}

/** GS1 mod-10 check digit for `body` (GS1 General Specifications §7.9.1). */
export function checkDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += (body.charCodeAt(i) - 48) * w;
  return String((10 - (sum % 10)) % 10);
}

/** A GTIN-14 under `prefix`: indicator 0, prefix, item reference, check digit. */
export function makeGtin(prefix: string, item: number): string {
  const body = '0' + prefix + String(item).padStart(12 - prefix.length, '0');
  return body + checkDigit(body);
}

/** An SSCC under `prefix`: extension 0, prefix, serial reference, check digit. */
export function makeSscc(prefix: string, serial: number): string {
  const body = '0' + prefix + String(serial).padStart(16 - prefix.length, '0');
  return body + checkDigit(body);
}

/** A GLN under `prefix`. */
export function makeGln(prefix: string, location: number): string {
  const body = prefix + String(location).padStart(12 - prefix.length, '0');
  return body + checkDigit(body);
}

interface SubjectTrack {
  entries: LoggedEntry[];
  head: { seq: number; id: string } | null;
  lastShip: { from: string; to: string; shipment: string } | null;
  /** container: its children at pack; unit: the container it is packed in */
  children: string[];
  parent: string | null;
  unpackId: string | null;
  decommissionId: string | null;
}

const MINUTE = 60_000;

/**
 * An in-memory supply chain with its log. Every method that writes logs one
 * envelope (or a few) and advances the clock by a minute.
 */
export class ChainBuilder {
  static readonly MANUFACTURER_PREFIX = '0614141';
  readonly origin: string;
  readonly backend: Ed25519Backend;
  readonly authority: TestKey;
  readonly logKey: TestKey;
  readonly logVkey: string;
  readonly witnessKeys: { name: string; seed: Uint8Array; vkey: string }[];
  readonly tree = new MerkleTree();
  readonly log: LoggedEntry[] = [];
  readonly parties = new Map<string, TestParty>();
  /** ms since epoch */
  clock: number;
  private readonly subjects = new Map<string, SubjectTrack>();
  private readonly namespace: string;
  private keyCounter = 0;
  private shipmentCounter = 0;

  constructor(
    opts: {
      origin?: string;
      start?: string;
      backend?: Ed25519Backend;
      witnesses?: number;
      /** keys derive from this and a label: two builders with different namespaces share no key */
      namespace?: string;
    } = {},
  ) {
    this.namespace = opts.namespace ?? 'default';
    this.origin = opts.origin ?? 'log.provenant.example';
    this.backend = opts.backend ?? nobleBackend;
    this.clock = Date.parse(opts.start ?? '2026-01-05T08:00:00.000Z');
    this.authority = this.deriveKey('authority');
    this.logKey = this.deriveKey('log');
    this.logVkey = encodeVerifierKey(this.origin, this.logKey.publicKey);
    this.witnessKeys = Array.from({ length: opts.witnesses ?? 0 }, (_, i) => {
      const name = `witness${i + 1}.example`;
      const k = this.deriveKey(name);
      return { name, seed: k.seed, vkey: encodeVerifierKey(name, k.publicKey, 'cosignature/v1') };
    });
  }

  /** A deterministic key from a label. */
  deriveKey(label: string): TestKey {
    const seed = sha256(utf8(`provenant test key: ${this.namespace}/${label}`));
    const publicKey = publicKeyFromSeed(seed, this.backend);
    return { seed, publicKey, kid: keyId(publicKey) };
  }

  /** The builder's clock as RFC 3339. */
  now(offsetMs = 0): string {
    return new Date(this.clock + offsetMs).toISOString();
  }

  /** Advances the clock and returns the new time. */
  tick(ms = MINUTE): string {
    this.clock += ms;
    return this.now();
  }

  /** Trust for verifyBundle: the log key, the authority, and the witnesses when asked. */
  trust(
    opts: { witnesses?: number; minWitnesses?: number; maxCheckpointAgeSeconds?: number } = {},
  ): Trust {
    const t: Trust = { logKey: this.logVkey, authorityKey: toBase64Url(this.authority.publicKey) };
    if (opts.witnesses !== undefined)
      t.witnesses = this.witnessKeys.slice(0, opts.witnesses).map((w) => w.vkey);
    if (opts.minWitnesses !== undefined) t.minWitnesses = opts.minWitnesses;
    if (opts.maxCheckpointAgeSeconds !== undefined)
      t.maxCheckpointAgeSeconds = opts.maxCheckpointAgeSeconds;
    return t;
  }

  // -------------------------------------------------------------------------
  // The log.

  /** Logs an envelope: leaf = SHA-256(0x00 ‖ JCS(envelope)), receipt signed by the log key. */
  append(envelope: Envelope, integratedAt: string): LogReceipt {
    const leaf = leafHash(canonicalBytes(envelope));
    const index = this.tree.size;
    this.tree.append(leaf);
    const body = { origin: this.origin, index, leafHash: toHex(leaf), integratedAt };
    const signature = toBase64(sign(canonicalBytes(body), this.logKey.seed, this.backend));
    return { ...body, signature };
  }

  /** A signed checkpoint of the tree at `size` (default: now), cosigned by the first `witnesses` witnesses. */
  checkpoint(opts: { size?: number; witnesses?: number; cosignedAt?: number } = {}): string {
    const size = opts.size ?? this.tree.size;
    let note = signCheckpoint(
      { origin: this.origin, size, rootHash: this.tree.root(size), extensions: [] },
      { name: this.origin, seed: this.logKey.seed },
      this.backend,
    );
    const n = opts.witnesses ?? 0;
    if (n > 0) {
      const ts = Math.floor((opts.cosignedAt ?? this.clock) / 1000);
      const lines = this.witnessKeys
        .slice(0, n)
        .map((w) => cosignCheckpoint(note, { name: w.name, seed: w.seed }, ts, this.backend));
      note = addSignatureLines(note, lines);
    }
    return note;
  }

  // -------------------------------------------------------------------------
  // Notices.

  /** Signs and logs a notice. The signer is the authority unless `by` names a party. */
  notice(
    type: Notice['type'],
    data: Record<string, unknown>,
    by: TestParty | 'authority' = 'authority',
    opts: SignOptions = {},
  ): LoggedEntry {
    const key = opts.key ?? (by === 'authority' ? this.authority : by.key);
    const time = opts.time ?? this.tick();
    const payload: Record<string, unknown> = {
      v: 1,
      type,
      actor: by === 'authority' ? 'authority' : by.gln,
      kid: opts.kid ?? key.kid,
      time,
      data,
    };
    opts.mutate?.(payload);
    const bytes = canonicalBytes(payload);
    let envelope = signEnvelope(NOTICE_PAYLOAD_TYPE, bytes, key.seed, this.backend);
    if (opts.tamper) envelope = opts.tamper(envelope);
    const entry: LoggedEntry = {
      kind: 'notice',
      envelope,
      receipt: undefined as unknown as LogReceipt,
      id: sha256Hex(bytes),
      notice: payload as unknown as Notice,
    };
    if (!opts.unlogged) {
      entry.receipt = this.append(
        envelope,
        opts.integratedAt ?? new Date(Date.parse(time) + 1000).toISOString(),
      );
      this.log.push(entry);
    }
    return entry;
  }

  /** Registers a party and a first key (two authority notices). */
  party(opts: { name: string; gln: string; roles: PartyRole[]; prefixes?: string[] }): TestParty {
    const p: TestParty = {
      gln: opts.gln,
      name: opts.name,
      roles: opts.roles,
      prefixes: opts.prefixes ?? [],
      key: undefined as unknown as TestKey,
      keys: [],
    };
    this.notice('party', { gln: p.gln, name: p.name, roles: p.roles, prefixes: p.prefixes });
    this.parties.set(p.gln, p);
    this.addKey(p);
    return p;
  }

  /** A manufacturer (prefix 0614141), a distributor (prefix 0712345, for its pallets) and a pharmacy: the usual cast. */
  cast(): {
    manufacturer: TestParty;
    distributor: TestParty;
    pharmacy: TestParty;
    clinic: TestParty;
  } {
    return {
      manufacturer: this.party({
        name: 'Acme Pharma',
        gln: makeGln(ChainBuilder.MANUFACTURER_PREFIX, 1),
        roles: ['manufacturer'],
        prefixes: [ChainBuilder.MANUFACTURER_PREFIX],
      }),
      distributor: this.party({
        name: 'Wholesale Co',
        gln: makeGln('0712345', 1),
        roles: ['distributor'],
        // DESIGN §5: a distributor registers its company prefix to build pallets (SSCCs).
        prefixes: ['0712345'],
      }),
      pharmacy: this.party({
        name: 'City Hospital Pharmacy',
        gln: makeGln('0799999', 1),
        roles: ['dispenser'],
      }),
      clinic: this.party({
        name: 'Rural Clinic',
        gln: makeGln('0788888', 1),
        roles: ['dispenser'],
      }),
    };
  }

  /** Registers a new key for `party` (an authority notice) and makes it the party's signing key. */
  addKey(party: TestParty, opts: SignOptions = {}): TestKey {
    const key = this.deriveKey(`${party.gln}#${++this.keyCounter}`);
    this.notice(
      'key',
      { gln: party.gln, kid: key.kid, publicKey: toBase64Url(key.publicKey) },
      'authority',
      opts,
    );
    party.keys.push(key);
    party.key = key;
    return key;
  }

  /** Revokes `kid` as compromised since `compromisedAt`, signed by the authority or a party (with its current key). */
  revokeKey(
    by: TestParty | 'authority',
    kid: string,
    compromisedAt: string,
    opts: SignOptions = {},
  ): LoggedEntry {
    return this.notice('key-revoke', { kid, compromisedAt, reason: 'key compromised' }, by, opts);
  }

  suspend(gln: string): LoggedEntry {
    return this.notice('party-suspend', { gln, reason: 'vendor-risk hold' });
  }

  reinstate(gln: string): LoggedEntry {
    return this.notice('party-reinstate', { gln });
  }

  /** A recall of a GTIN (and lot), signed by the manufacturer. */
  recall(by: TestParty, gtin: string, lot?: string, opts: SignOptions = {}): LoggedEntry {
    return this.notice(
      'recall',
      { gtin, ...(lot !== undefined ? { lot } : {}), reason: 'contamination' },
      by,
      opts,
    );
  }

  // -------------------------------------------------------------------------
  // Records.

  private track(subject: string): SubjectTrack {
    let t = this.subjects.get(subject);
    if (!t) {
      t = {
        entries: [],
        head: null,
        lastShip: null,
        children: [],
        parent: null,
        unpackId: null,
        decommissionId: null,
      };
      this.subjects.set(subject, t);
    }
    return t;
  }

  /** The head of a subject's chain as the builder sees it. */
  head(subject: string): { seq: number; id: string } | null {
    return this.subjects.get(subject)?.head ?? null;
  }

  /** Every logged record of a subject, in log order (forks included). */
  entriesOf(subject: string): LoggedEntry[] {
    return this.subjects.get(subject)?.entries ?? [];
  }

  /** Moves a subject's head back to `seq`, so the next record forks the chain at seq + 1. */
  rewind(subject: string, seq: number): void {
    const t = this.track(subject);
    const e = t.entries.find((x) => x.record!.seq === seq);
    if (!e) throw new Error(`no record at seq ${seq} of ${subject}`);
    t.head = { seq, id: e.id };
  }

  /** Signs and logs one record on `subject`'s chain as `actor`. */
  record(
    actor: TestParty,
    subject: string,
    type: RecordType,
    data: Record<string, unknown>,
    opts: RecordOptions = {},
  ): LoggedEntry {
    const t = this.track(subject);
    const key = opts.key ?? actor.key;
    const time = opts.time ?? this.tick();
    const payload: Record<string, unknown> = {
      v: 1,
      subject,
      seq: opts.seq ?? (t.head ? t.head.seq + 1 : 0),
      prev: opts.prev !== undefined ? opts.prev : (t.head?.id ?? null),
      type,
      actor: actor.gln,
      kid: opts.kid ?? key.kid,
      time,
      data,
    };
    opts.mutate?.(payload);
    const bytes = canonicalBytes(payload);
    let envelope = signEnvelope(RECORD_PAYLOAD_TYPE, bytes, key.seed, this.backend);
    if (opts.tamper) envelope = opts.tamper(envelope);
    const entry: LoggedEntry = {
      kind: 'record',
      envelope,
      receipt: undefined as unknown as LogReceipt,
      id: sha256Hex(bytes),
      record: payload as unknown as CustodyRecord,
    };
    if (opts.unlogged) return entry;
    entry.receipt = this.append(
      envelope,
      opts.integratedAt ?? new Date(Date.parse(time) + 1000).toISOString(),
    );
    this.log.push(entry);
    t.entries.push(entry);
    if (!opts.keepHead) t.head = { seq: payload['seq'] as number, id: entry.id };
    return entry;
  }

  /** Commissions a unit; returns its subject. */
  commission(
    by: TestParty,
    item: { gtin?: string; serial: string; lot?: string; expiry?: string },
    opts: RecordOptions = {},
  ): string {
    const gtin = item.gtin ?? makeGtin(ChainBuilder.MANUFACTURER_PREFIX, 12345);
    const subject = unitSubject(gtin, item.serial);
    this.record(
      by,
      subject,
      'commission',
      { gtin, serial: item.serial, lot: item.lot ?? 'LOT42', expiry: item.expiry ?? '2028-12-31' },
      opts,
    );
    return subject;
  }

  /** Commissions `n` units with serials `${prefix}${i}`. */
  commissionMany(
    by: TestParty,
    n: number,
    opts: { gtin?: string; lot?: string; expiry?: string; serialPrefix?: string } = {},
  ): string[] {
    const out: string[] = [];
    for (let i = 0; i < n; i++)
      out.push(
        this.commission(by, {
          ...opts,
          serial: `${opts.serialPrefix ?? 'S'}${String(i).padStart(6, '0')}`,
        }),
      );
    return out;
  }

  /**
   * Packs children into a parent: each child's pack {parent}, then the parent's pack of
   * its children. `sscc` is the 18 SSCC digits of a new logistic unit, or a subject:
   * `00/<sscc>`, or `01/<gtin>/21/<serial>` of a commissioned serialized case (DESIGN §5:
   * containers nest, so children may be containers too).
   */
  pack(by: TestParty, sscc: string, units: readonly string[], opts: RecordOptions = {}): string {
    const parent = sscc.includes('/') ? sscc : containerSubject(sscc);
    const children = units.map((u) => {
      const e = this.record(by, u, 'pack', { parent });
      this.track(u).parent = parent;
      return { subject: u, head: e.id };
    });
    this.record(by, parent, 'pack', { children }, opts);
    this.track(parent).children = [...units];
    return parent;
  }

  /** Ships a subject (unit or logistic unit) to a party. */
  ship(
    by: TestParty,
    subject: string,
    to: TestParty | string,
    opts: RecordOptions & { shipment?: string } = {},
  ): LoggedEntry {
    const shipment = opts.shipment ?? `SHP-${++this.shipmentCounter}`;
    const toGln = typeof to === 'string' ? to : to.gln;
    const e = this.record(by, subject, 'ship', { to: toGln, shipment }, opts);
    this.track(subject).lastShip = { from: by.gln, to: toGln, shipment };
    return e;
  }

  /** Receives the last shipment of a subject. */
  receive(
    by: TestParty,
    subject: string,
    opts: RecordOptions & { condition?: 'ok' | 'damaged' } = {},
  ): LoggedEntry {
    const s = this.track(subject).lastShip;
    if (!s) throw new Error(`${subject} was never shipped`);
    return this.record(
      by,
      subject,
      'receive',
      { from: s.from, shipment: s.shipment, condition: opts.condition ?? 'ok' },
      opts,
    );
  }

  /** Ship and receive: one dual-signed handoff. */
  handoff(from: TestParty, to: TestParty, subject: string): void {
    this.ship(from, subject, to);
    this.receive(to, subject);
  }

  /** Opens a logistic unit: the container's unpack, then each unit's unpack. */
  unpack(by: TestParty, container: string): void {
    const t = this.track(container);
    const e = this.record(by, container, 'unpack', { children: t.children });
    t.unpackId = e.id;
    for (const u of t.children) {
      this.record(by, u, 'unpack', { parent: container, parentHead: e.id });
      this.track(u).parent = null;
    }
  }

  decommission(
    by: TestParty,
    subject: string,
    reason = 'dispensed',
    opts: RecordOptions = {},
  ): LoggedEntry {
    const e = this.record(by, subject, 'decommission', { reason }, opts);
    this.track(subject).decommissionId = e.id;
    return e;
  }

  reactivate(by: TestParty, subject: string, opts: RecordOptions = {}): LoggedEntry {
    return this.record(
      by,
      subject,
      'reactivate',
      { undo: this.track(subject).decommissionId },
      opts,
    );
  }

  quarantine(
    by: TestParty,
    subject: string,
    caseId = 'CASE-1',
    opts: RecordOptions = {},
  ): LoggedEntry {
    return this.record(
      by,
      subject,
      'quarantine',
      { case: caseId, reason: 'suspect product' },
      opts,
    );
  }

  release(
    by: TestParty,
    subject: string,
    caseId = 'CASE-1',
    opts: RecordOptions = {},
  ): LoggedEntry {
    return this.record(by, subject, 'release', { case: caseId, reason: 'cleared' }, opts);
  }

  // -------------------------------------------------------------------------
  // Bundles.

  /** Containers a unit was ever packed in, from its records. */
  private containersOf(unit: string): string[] {
    const out = new Set<string>();
    for (const e of this.entriesOf(unit)) {
      const d = e.record!.data as Record<string, unknown>;
      if (
        (e.record!.type === 'pack' || e.record!.type === 'unpack') &&
        typeof d['parent'] === 'string'
      )
        out.add(d['parent']);
    }
    return [...out];
  }

  /** Children listed by a subject's packs of children. */
  private childrenOf(subject: string): string[] {
    const out: string[] = [];
    for (const e of this.entriesOf(subject)) {
      const d = e.record!.data as Record<string, unknown>;
      if (e.record!.type === 'pack' && Array.isArray(d['children']))
        for (const c of d['children'] as { subject: string }[]) out.push(c.subject);
    }
    return out;
  }

  /**
   * The chains a bundle for `subject` carries (bundle.ts): own, its children at every
   * level (DESIGN §5: containers nest), and every container any of these was ever in,
   * every level up.
   */
  chainSubjects(subject: string): string[] {
    const out = new Set<string>();
    const down = [subject];
    for (let s = down.pop(); s !== undefined; s = down.pop()) {
      if (out.has(s)) continue;
      out.add(s);
      down.push(...this.childrenOf(s));
    }
    const up = [...out];
    for (let s = up.pop(); s !== undefined; s = up.pop())
      for (const c of this.containersOf(s))
        if (!out.has(c)) {
          out.add(c);
          up.push(c);
        }
    return [...out];
  }

  /** An offline bundle for `subject` with proofs to one checkpoint. */
  bundle(subject: string, opts: BundleOptions = {}): Bundle {
    const checkpoint = opts.checkpoint ?? this.checkpoint({ witnesses: opts.witnesses ?? 0 });
    const size = Number(checkpoint.split('\n')[1]);
    const entry = (e: LoggedEntry): BundleEntry => ({
      envelope: e.envelope,
      receipt: e.receipt,
      proof: this.tree.inclusionProof(e.receipt.index, size).map(toHex),
    });
    const keep = (e: LoggedEntry) => e.receipt.index < size && !(opts.omit?.(e) ?? false);
    const chains: Record<string, BundleEntry[]> = {};
    for (const s of this.chainSubjects(subject)) {
      const list = this.entriesOf(s)
        .filter(keep)
        .sort((a, b) => a.record!.seq - b.record!.seq || a.receipt.index - b.receipt.index);
      if (list.length > 0) chains[s] = list.map(entry);
    }
    const notices = this.log.filter((e) => e.kind === 'notice' && keep(e)).map(entry);
    return { v: 1, subject, checkpoint, chains, notices };
  }
}
