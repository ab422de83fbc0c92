// Custodial signing (DESIGN §8 "two ways to sign"): the service signs with a
// party key it holds sealed at rest (AES-256-GCM under the master key, AAD
// bound to the kid), and registry notices with the authority key derived
// from the master key. Unsealed seeds live only in this process's memory,
// briefly; they are never logged, returned or stored.
import {
  AUTHORITY_ACTOR,
  encodeNotice,
  encodeRecord,
  NOTICE_PAYLOAD_TYPE,
  noticeSchema,
  RECORD_PAYLOAD_TYPE,
  recordSchema,
  type CustodyRecord,
  type Notice,
} from '@provenant/core';
import {
  getKey,
  getSealedPrivateKey,
  insertKey,
  listKeysByParty,
  UniqueViolationError,
  type Queryable,
} from '@provenant/store';
import { unprocessable } from '@provenant/server-kit';
import { parse } from '@provenant/server-kit';
import { sha256HexFast, signEnvelopeFast, signerFor, type FastSigner } from '../log/fast.js';
import { deriveServiceKey, type ServiceKey } from '../log/keys.js';
import type { PendingNotice, PendingRecord } from '../log/sequencer.js';
import { keyAad, unseal } from '../seal.js';

/** Distributive Omit, so each record/notice variant keeps its own `data` type. */
type DistOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type UnsignedRecord = DistOmit<CustodyRecord, 'kid'>;
export type UnsignedNotice = DistOmit<Notice, 'kid'>;
/** A registry notice before the authority signs it (actor and kid are filled in). */
export type AuthorityNoticeBody = DistOmit<Notice, 'kid' | 'actor'>;

/** How long an unsealed seed is reused before the key row is read again (ms). */
export const DEFAULT_CUSTODIAL_TTL_MS = 60_000;

export interface CustodialSignerOptions {
  masterKey: Uint8Array;
  ttlMs?: number;
  now?: () => number;
}

interface CachedKey {
  kid: string;
  seed: Uint8Array;
  until: number;
}

/** Signs a validated record into a pending entry. The record must pass the record schema. */
export function signRecordWith(seed: Uint8Array, record: CustodyRecord): PendingRecord {
  return signRecordBy(signerFor(seed), record);
}

function signRecordBy(signer: FastSigner, record: CustodyRecord): PendingRecord {
  const value = parse(recordSchema, record, 'record') as CustodyRecord;
  const payload = encodeRecord(value);
  // node:crypto with the seed's KeyObject imported once: the same envelope as core's signEnvelope.
  const envelope = signEnvelopeFast(RECORD_PAYLOAD_TYPE, payload, signer);
  return { kind: 'record', id: sha256HexFast(payload), record: value, payload, envelope };
}

/** Signs a validated notice into a pending entry. */
export function signNoticeWith(seed: Uint8Array, notice: Notice): PendingNotice {
  const value = parse(noticeSchema, notice, 'notice') as Notice;
  const payload = encodeNotice(value);
  const envelope = signEnvelopeFast(NOTICE_PAYLOAD_TYPE, payload, signerFor(seed));
  return { kind: 'notice', id: sha256HexFast(payload), notice: value, payload, envelope };
}

/**
 * Signs records and notices with parties' custodial keys. One per process;
 * pass the database (or a transaction) per call.
 */
export class CustodialSigner {
  private readonly masterKey: Uint8Array;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, CachedKey>();

  constructor(opts: CustodialSignerOptions) {
    this.masterKey = opts.masterKey;
    this.ttlMs = opts.ttlMs ?? DEFAULT_CUSTODIAL_TTL_MS;
    this.now = opts.now ?? Date.now;
  }

  /**
   * The party's newest active custodial key, unsealed (cached for ttlMs).
   * @throws HttpProblem 422 KEY_UNKNOWN when the party holds no active custodial key;
   *   SealError when the sealed key fails to open (wrong master key or tampering).
   */
  async key(q: Queryable, gln: string): Promise<{ kid: string; seed: Uint8Array }> {
    const hit = this.cache.get(gln);
    if (hit && hit.until > this.now()) return { kid: hit.kid, seed: hit.seed };
    const keys = await listKeysByParty(q, gln);
    const candidates = keys.filter((k) => k.custodial && k.status === 'active');
    const chosen = candidates[candidates.length - 1];
    const sealed = chosen ? await getSealedPrivateKey(q, chosen.kid) : null;
    if (!chosen || !sealed)
      throw unprocessable(`Party ${gln} holds no active custodial key; register one first.`, {
        slug: 'key-unknown',
        reasons: [{ code: 'KEY_UNKNOWN', message: 'no active custodial key' }],
      });
    const seed = unseal(sealed, this.masterKey, keyAad(chosen.kid));
    this.cache.set(gln, { kid: chosen.kid, seed, until: this.now() + this.ttlMs });
    return { kid: chosen.kid, seed };
  }

  /** Drops cached seeds (all, or one party's): call after a key is revoked or rotated. */
  forget(gln?: string): void {
    if (gln === undefined) this.cache.clear();
    else this.cache.delete(gln);
  }

  /**
   * Signs `records` (all by party `gln`, without kid) with its custodial key.
   * @throws HttpProblem 400 when a record does not pass the schema, 422 KEY_UNKNOWN as {@link key}.
   */
  async signRecords(
    q: Queryable,
    gln: string,
    records: readonly UnsignedRecord[],
  ): Promise<PendingRecord[]> {
    const { kid, seed } = await this.key(q, gln);
    const signer = signerFor(seed);
    return records.map((r) => signRecordBy(signer, { ...r, kid } as CustodyRecord));
  }

  /** Signs one record; see {@link signRecords}. */
  async signRecord(q: Queryable, gln: string, record: UnsignedRecord): Promise<PendingRecord> {
    return (await this.signRecords(q, gln, [record]))[0]!;
  }

  /** Signs a notice (recall, key-revoke) by party `gln` with its custodial key. */
  async signNotice(q: Queryable, gln: string, notice: UnsignedNotice): Promise<PendingNotice> {
    const { kid, seed } = await this.key(q, gln);
    return signNoticeWith(seed, { ...notice, kid } as Notice);
  }
}

/** The registry authority key (DESIGN §5 notices), derived from the master key. */
export function authorityKey(masterKey: Uint8Array): ServiceKey {
  return deriveServiceKey(masterKey, 'authority');
}

/**
 * Registers the authority's public key in party_keys (gln null) if absent,
 * so notices it signs resolve by kid like any other. Idempotent.
 */
export async function ensureAuthorityKey(q: Queryable, masterKey: Uint8Array): Promise<ServiceKey> {
  const key = authorityKey(masterKey);
  if (await getKey(q, key.kid)) return key;
  try {
    await insertKey(q, { kid: key.kid, gln: null, publicKey: key.publicKey });
  } catch (err) {
    // Another replica registered it first.
    if (!(err instanceof UniqueViolationError)) throw err;
  }
  return key;
}

/** Signs a registry notice (party*, key*, key-revoke by the authority) with the authority key. */
export function signAuthorityNotice(
  masterKey: Uint8Array,
  notice: AuthorityNoticeBody,
): PendingNotice {
  const key = authorityKey(masterKey);
  return signNoticeWith(key.seed, { ...notice, actor: AUTHORITY_ACTOR, kid: key.kid } as Notice);
}
