// The append pipeline's stateless gate (DESIGN §4, §5, §8): every envelope a
// client posts is attacker-controlled, so before anything reaches the
// sequencer it is parsed (zod, strict base64, canonical JCS payload), its key
// resolved by kid, its DSSE signature verified, and the caller's right to
// sign as the record's actor checked. Custody rules and the final key and
// party checks run later in the sequencer, under the log lock.
import {
  COMMISSIONING_ROLES,
  envelopeSchema,
  fromDsseBase64,
  NOTICE_PAYLOAD_TYPE,
  parseNoticePayload,
  parseRecordPayload,
  RECORD_PAYLOAD_TYPE,
  verifyEnvelope,
  type Envelope,
  type PayloadIssue,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import {
  findPartiesByGtin,
  readAppendPrechecks,
  type PartyKey,
  type Queryable,
} from '@provenant/store';
import type { Principal } from '@provenant/server-kit';
import { badRequest, forbidden } from '@provenant/server-kit';
import type { FieldError } from '@provenant/server-kit';
import { parse } from '@provenant/server-kit';
import { refused } from '../log/errors.js';
import { assertCompromisedAtInRange } from './key-rules.js';
import type { PendingNotice, PendingRecord } from '../log/sequencer.js';

/** Where the envelopes sit in the request, for error paths: `body` or `body.envelopes`. */
export interface PrepareOptions {
  /** Path of the envelope (single) or of the array (batch) in the request; default `body`. */
  where?: string;
  /** Clock (epoch ms) for the early key-revocation check; default Date.now. */
  now?: () => number;
  /**
   * Position of each envelope in the request (error paths and `entry`), when
   * the envelopes are a subset of a batch; default: their index.
   */
  positions?: readonly number[];
}

interface Decoded<T> {
  envelope: Envelope;
  payload: Uint8Array;
  value: T;
  id: string;
  where: string;
}

function payloadErrors(where: string, issues: PayloadIssue[]): FieldError[] {
  return issues.map((i) => ({
    path: i.path === '' ? `${where}.payload` : `${where}.payload.${i.path}`,
    rule: 'payload',
    message: i.message,
  }));
}

function invalidPayload(where: string, issues: PayloadIssue[]): Error {
  const errors = payloadErrors(where, issues);
  const first = errors[0]!;
  return badRequest(
    errors.length === 1 ? `${first.path}: ${first.message}` : `${where}.payload is invalid.`,
    { errors: errors.slice(0, 100) },
  );
}

/** Envelope shape, payload type, payload bytes: 400 naming the field on any failure. */
function decode<T>(
  raw: unknown,
  where: string,
  payloadType: string,
  parsePayload: (
    b: Uint8Array,
  ) => { ok: true; value: T; id: string } | { ok: false; errors: PayloadIssue[] },
): Decoded<T> {
  const envelope = parse(envelopeSchema, raw, where) as Envelope;
  if (envelope.payloadType !== payloadType)
    throw badRequest(`${where}.payloadType: expected ${payloadType}.`, {
      errors: [
        {
          path: `${where}.payloadType`,
          rule: 'payload-type',
          message: `expected ${payloadType}`,
        },
      ],
    });
  // envelopeSchema already proved it is strict base64.
  const payload = fromDsseBase64(envelope.payload)!;
  const r = parsePayload(payload);
  if (!r.ok) throw invalidPayload(where, r.errors);
  const kid = (r.value as { kid: string }).kid;
  if (kid !== envelope.signatures[0]!.keyid)
    throw badRequest(`${where}.payload.kid: the payload kid is not the envelope keyid.`, {
      errors: [
        {
          path: `${where}.payload.kid`,
          rule: 'kid-matches-keyid',
          message: 'the payload kid must equal signatures[0].keyid',
        },
      ],
    });
  return { envelope, payload, value: r.value, id: r.id, where };
}

/**
 * Key checks before the lock: known kid (KEY_UNKNOWN), owned by `owner`
 * (null: the registry authority) (KEY_NOT_AUTHORIZED), not revoked as of now
 * (KEY_REVOKED; the sequencer re-checks against the receipt time), and a
 * valid DSSE signature under the strict policy (SIGNATURE_INVALID).
 * An entry already in the log skips the revocation check: re-sending it returns the stored result.
 */
function checkKeyAndSignature(
  d: Decoded<unknown>,
  key: PartyKey | undefined,
  owner: string | null,
  stored: boolean,
  now: number,
  entry: number | undefined,
): void {
  const kid = d.envelope.signatures[0]!.keyid;
  const where = entry === undefined ? {} : { entry };
  if (!key) throw refused('KEY_UNKNOWN', `No key with kid ${kid} is registered.`, where);
  if (key.gln !== owner)
    throw refused(
      'KEY_NOT_AUTHORIZED',
      `Key ${kid} does not belong to ${owner ?? 'the registry authority'}.`,
      where,
    );
  if (!stored && key.status === 'revoked') {
    const t = key.compromisedAt ?? key.revokedAt;
    if (t === null || now >= Date.parse(t))
      throw refused('KEY_REVOKED', `Key ${kid} is revoked.`, where);
  }
  const v = verifyEnvelope(d.envelope, () => key.publicKey, nodeBackend);
  if (!v.ok)
    throw refused(
      v.code === 'KEY_UNKNOWN' ? 'KEY_UNKNOWN' : 'SIGNATURE_INVALID',
      `The envelope signature does not verify (${v.detail}).`,
      where,
    );
}

function assertActor(principal: Principal, actor: string): void {
  if (principal.isAdmin || principal.gln === actor) return;
  throw forbidden(`This token may not sign as ${actor}.`);
}

/**
 * Validates client-signed record envelopes (POST /v1/records) into entries for
 * the sequencer. All-or-nothing: the first bad envelope throws, naming it.
 * `principal` must sign as each record's actor unless it is an admin.
 * @throws HttpProblem 400 (shape, payload type, payload field, kid mismatch),
 *   403 (another party's record), 422 KEY_UNKNOWN / KEY_NOT_AUTHORIZED /
 *   KEY_REVOKED / SIGNATURE_INVALID / PARTY_SUSPENDED; store errors (503).
 */
export async function prepareRecords(
  q: Queryable,
  envelopes: readonly unknown[],
  principal: Principal,
  opts: PrepareOptions = {},
): Promise<PendingRecord[]> {
  const base = opts.where ?? 'body';
  const many = envelopes.length !== 1 || base.endsWith('envelopes');
  const pos = (i: number) => opts.positions?.[i] ?? i;
  const decoded = envelopes.map((raw, i) =>
    decode(raw, many ? `${base}[${pos(i)}]` : base, RECORD_PAYLOAD_TYPE, (b) => {
      const r = parseRecordPayload(b);
      return r.ok ? { ok: true as const, value: r.record, id: r.id } : r;
    }),
  );
  for (const d of decoded) assertActor(principal, d.value.actor);
  // Keys, actors and stored entries in one round trip (the sequencer re-reads them under the lock).
  const { keys, parties, stored } = await readAppendPrechecks(q, {
    kids: [...new Set(decoded.map((d) => d.value.kid))],
    glns: [...new Set(decoded.map((d) => d.value.actor))],
    entryIds: decoded.map((d) => d.id),
  });
  const now = (opts.now ?? Date.now)();
  return decoded.map((d, i) => {
    const entry = many ? pos(i) : undefined;
    const isStored = stored.has(d.id);
    checkKeyAndSignature(d, keys.get(d.value.kid), d.value.actor, isStored, now, entry);
    // A suspended party may not sign (decision: 422 PARTY_SUSPENDED, the DESIGN §7 code).
    const party = parties.get(d.value.actor);
    if (!isStored && party?.status === 'suspended')
      throw refused('PARTY_SUSPENDED', `Party ${d.value.actor} is suspended.`, {
        ...(entry === undefined ? {} : { entry }),
      });
    return {
      kind: 'record' as const,
      id: d.id,
      record: d.value,
      payload: d.payload,
      envelope: d.envelope,
    };
  });
}

/** One client-signed record envelope; see {@link prepareRecords}. */
export async function prepareRecord(
  q: Queryable,
  envelope: unknown,
  principal: Principal,
  opts: PrepareOptions = {},
): Promise<PendingRecord> {
  return (await prepareRecords(q, [envelope], principal, opts))[0]!;
}

/**
 * Validates a notice envelope (DESIGN §5 notices) and who may sign it:
 * registry notices (party*, key*) by the registry authority's key, posted by
 * an admin; a recall by the GTIN's manufacturer (a party owning its company
 * prefix with a commissioning role); a key revocation by the key's party with
 * another of its keys, or by the authority (admin).
 * @throws HttpProblem 400 / 403 / 422 as {@link prepareRecords}.
 */
export async function prepareNotice(
  q: Queryable,
  raw: unknown,
  principal: Principal,
  opts: PrepareOptions = {},
): Promise<PendingNotice> {
  const where = opts.where ?? 'body';
  const d = decode(raw, where, NOTICE_PAYLOAD_TYPE, (b) => {
    const r = parseNoticePayload(b);
    return r.ok ? { ok: true as const, value: r.notice, id: r.id } : r;
  });
  const n = d.value;
  const byAuthority = n.actor === 'authority';
  if (byAuthority) {
    if (!principal.isAdmin) throw forbidden('Only an admin may post registry authority notices.');
  } else assertActor(principal, n.actor);

  const kids = [n.kid];
  if (n.type === 'key-revoke') kids.push(n.data.kid);
  const { keys, parties, stored } = await readAppendPrechecks(q, {
    kids,
    glns: byAuthority ? [] : [n.actor],
    entryIds: [d.id],
  });
  const isStored = stored.has(d.id);
  // In a batch, the notice's position (refusals name it as `entry`).
  const entry = opts.positions?.[0];
  checkKeyAndSignature(
    d,
    keys.get(n.kid),
    byAuthority ? null : n.actor,
    isStored,
    (opts.now ?? Date.now)(),
    entry,
  );
  if (!byAuthority && !isStored) {
    const party = parties.get(n.actor);
    if (party?.status === 'suspended')
      throw refused(
        'PARTY_SUSPENDED',
        `Party ${n.actor} is suspended.`,
        entry === undefined ? {} : { entry },
      );
  }

  if (n.type === 'recall') {
    const owners = await findPartiesByGtin(q, n.data.gtin);
    const ok = owners.some(
      (p) => p.gln === n.actor && p.roles.some((r) => COMMISSIONING_ROLES.has(r)),
    );
    if (!ok) throw forbidden(`${n.actor} is not the manufacturer of GTIN ${n.data.gtin}.`);
  }
  if (n.type === 'key-revoke') {
    // DESIGN §5 (issue 10 #7): revoking needs `keys` (or admin), and compromisedAt is bounded.
    if (!principal.isAdmin && !principal.scopes.includes('keys'))
      throw forbidden('Revoking a key needs a token with the "keys" scope.', {
        slug: 'insufficient-scope',
      });
  }
  if (n.type === 'key-revoke' && !byAuthority) {
    const target = keys.get(n.data.kid);
    if (!target || target.gln !== n.actor)
      throw forbidden(`Key ${n.data.kid} does not belong to ${n.actor}.`);
    // DESIGN §5: revoked "with another active key": a stolen key cannot revoke itself.
    if (n.data.kid === n.kid)
      throw refused(
        'KEY_NOT_AUTHORIZED',
        'A key revocation must be signed with another key.',
        entry === undefined ? {} : { entry },
      );
  }
  if (n.type === 'key-revoke' && !isStored)
    await assertCompromisedAtInRange(
      q,
      n.data.kid,
      Date.parse(n.data.compromisedAt),
      `${where}.payload.data.compromisedAt`,
    );
  return { kind: 'notice', id: d.id, notice: n, payload: d.payload, envelope: d.envelope };
}
