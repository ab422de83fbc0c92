// Notices (DESIGN §5 "Notices"): signed log entries that belong to no subject
// chain: the party and key registry (signed by the registry authority),
// recalls (signed by the GTIN's manufacturer) and key revocations (signed by
// the party with another active key, or by the authority). Who may sign what is
// checked by the verifier against the registry; the schema fixes the shape and
// the one canonical spelling, as for records.
import { z } from 'zod';
import { fromBase64Url } from './bytes.js';
import { sha256Hex } from './hash.js';
import { canonicalBytes } from './jcs.js';
import {
  cset82Schema,
  glnSchema,
  gtinSchema,
  kidSchema,
  parseCanonicalPayload,
  publicKeySchema,
  textSchema,
  timestampSchema,
} from './records.js';
import type { PayloadIssue, PayloadOptions } from './records.js';

/** Party roles (DESIGN §8a). */
export const PARTY_ROLES = [
  'manufacturer',
  'repackager',
  'distributor',
  '3pl',
  'dispenser',
] as const;
export type PartyRole = (typeof PARTY_ROLES)[number];

export const NOTICE_TYPES = [
  'party',
  'party-suspend',
  'party-reinstate',
  'key',
  'key-suspend',
  'key-reinstate',
  'key-revoke',
  'recall',
] as const;
export type NoticeType = (typeof NOTICE_TYPES)[number];

/**
 * The registry authority signs as `actor: "authority"`: it is the service
 * operator, not a trading party, and need not hold a GLN.
 */
export const AUTHORITY_ACTOR = 'authority';

// Notices only the registry authority may sign (DESIGN §5).
const AUTHORITY_ONLY: ReadonlySet<string> = new Set([
  'party',
  'party-suspend',
  'party-reinstate',
  'key',
  'key-suspend',
  'key-reinstate',
]);

/** GS1 Company Prefix: 6–12 digits. */
export const companyPrefixSchema = z
  .string()
  .regex(/^\d{6,12}$/, 'expected a 6-12 digit company prefix');

export const partyDataSchema = z.strictObject({
  gln: glnSchema,
  name: textSchema(200),
  roles: z
    .array(z.enum(PARTY_ROLES))
    .min(1)
    .max(PARTY_ROLES.length)
    .refine((r) => new Set(r).size === r.length, 'roles must be distinct'),
  prefixes: z
    .array(companyPrefixSchema)
    .max(100)
    .refine((p) => new Set(p).size === p.length, 'prefixes must be distinct'),
});

export const partyStatusDataSchema = z.strictObject({
  gln: glnSchema,
  reason: textSchema(500).optional(),
});

/** Key registration; `kid` must be the key id of `publicKey` (DESIGN §4). */
export const keyDataSchema = z
  .strictObject({ gln: glnSchema, kid: kidSchema, publicKey: publicKeySchema })
  .refine((k) => keyIdOfBase64Url(k.publicKey) === k.kid, {
    path: ['kid'],
    message: 'kid is not the key id of publicKey',
  });

export const keyStatusDataSchema = z.strictObject({
  kid: kidSchema,
  reason: textSchema(500).optional(),
});

export const keyRevokeDataSchema = z.strictObject({
  kid: kidSchema,
  compromisedAt: timestampSchema,
  reason: textSchema(500),
});

export const recallDataSchema = z.strictObject({
  gtin: gtinSchema,
  lot: cset82Schema.optional(),
  reason: textSchema(500),
});

function keyIdOfBase64Url(publicKey: string): string | null {
  const raw = fromBase64Url(publicKey);
  // DESIGN §4: kid = first 32 hex chars of SHA-256(raw public key).
  return raw && raw.length === 32 ? sha256Hex(raw).slice(0, 32) : null;
}

const common = {
  v: z.literal(1),
  actor: z.union([glnSchema, z.literal(AUTHORITY_ACTOR)]),
  kid: kidSchema,
  time: timestampSchema,
};

const noticeUnion = z.discriminatedUnion('type', [
  z.strictObject({ ...common, type: z.literal('party'), data: partyDataSchema }),
  z.strictObject({ ...common, type: z.literal('party-suspend'), data: partyStatusDataSchema }),
  z.strictObject({ ...common, type: z.literal('party-reinstate'), data: partyStatusDataSchema }),
  z.strictObject({ ...common, type: z.literal('key'), data: keyDataSchema }),
  z.strictObject({ ...common, type: z.literal('key-suspend'), data: keyStatusDataSchema }),
  z.strictObject({ ...common, type: z.literal('key-reinstate'), data: keyStatusDataSchema }),
  z.strictObject({ ...common, type: z.literal('key-revoke'), data: keyRevokeDataSchema }),
  z.strictObject({ ...common, type: z.literal('recall'), data: recallDataSchema }),
]);

/**
 * Schema of a notice payload `{v:1, type, actor, kid, time, data}`. Registry
 * notices must have `actor: "authority"`; a recall is signed by a party (GLN);
 * a key revocation by a party or the authority.
 */
export const noticeSchema = noticeUnion.superRefine((n, ctx) => {
  const byAuthority = n.actor === AUTHORITY_ACTOR;
  if (AUTHORITY_ONLY.has(n.type) && !byAuthority) {
    ctx.addIssue({
      code: 'custom',
      path: ['actor'],
      message: `${n.type} notices are signed by the authority`,
    });
  }
  if (n.type === 'recall' && byAuthority) {
    ctx.addIssue({
      code: 'custom',
      path: ['actor'],
      message: "a recall is signed by the GTIN's manufacturer",
    });
  }
});

/** A well-formed notice (the JSON payload of a notice envelope). */
export type Notice = z.infer<typeof noticeSchema>;
/** The notice variant of one type, e.g. `NoticeOf<'recall'>`. */
export type NoticeOf<T extends NoticeType> = Extract<Notice, { type: T }>;

/**
 * The payload bytes of a notice: its RFC 8785 canonical JSON (DESIGN §4).
 * @throws {JcsError} for values JCS cannot represent.
 */
export function encodeNotice(notice: Notice): Uint8Array {
  return canonicalBytes(notice);
}

/** The notice id: lowercase hex SHA-256 of the payload bytes. */
export function noticeId(notice: Notice): string {
  return sha256Hex(encodeNotice(notice));
}

export type ParseNoticeResult =
  { ok: true; notice: Notice; id: string } | { ok: false; errors: PayloadIssue[] };

/**
 * Parses notice payload bytes: UTF-8, strict JSON, {@link noticeSchema}, and
 * canonical JCS bytes. Never throws for bad bytes.
 */
export function parseNoticePayload(
  payload: Uint8Array,
  options?: PayloadOptions,
): ParseNoticeResult {
  const r = parseCanonicalPayload(payload, noticeSchema, options);
  return r.ok ? { ok: true, notice: r.value, id: r.id } : r;
}
