// The log's public endpoints (DESIGN §6, §8a): the log key, the latest signed
// checkpoint (with witness cosignatures), leaves, RFC 9162 inclusion and
// consistency proofs, and witness cosignatures (verified before stored).
// Reads only; the sequencer is the one writer of the log.
import type { Router } from 'express';
import { z } from 'zod';
import {
  addSignatureLines,
  apiRequests,
  bytesEqual,
  consistencyProof,
  fromHex,
  inclusionProof,
  parseCheckpoint,
  parseSignedNote,
  parseVerifierKey,
  toBase64,
  toBase64Url,
  toHex,
  verifyCosignature,
  strictApi,
  type NoteVerifierKey,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import {
  findLeafIndex,
  getCheckpoint,
  getLeafHashes,
  getLeaves,
  getLogSize,
  getWitness,
  listNotices,
  insertCosignature,
  latestCheckpoint,
  listCosignatures,
  type Database,
} from '@provenant/store';
import type { AppDeps, RouteDeps, RouteModule } from '@provenant/server-kit';
import { principalOf } from '@provenant/server-kit';
import { BEARER_AUTH, problemResponse } from '@provenant/server-kit';
import { badRequest, forbidden, notFound, unprocessable } from '@provenant/server-kit';
import { parse } from '@provenant/server-kit';
import type { LogKeys } from './keys.js';
import { receiptOf } from './receipts.js';
import { storedNodeReader } from './tree.js';

/** Deps of the log routes: the database and the log's keys. */
export interface LogRouteDeps extends AppDeps<Database> {
  logKeys: LogKeys;
  /** The registry authority's public key (signs party and key notices), published so docks can pin it. */
  authorityPublicKey?: Uint8Array;
}

/** Most leaves one GET /v1/log/entries answers. */
export const MAX_ENTRIES_PAGE = 1000;
/** Most witness cosignatures kept per checkpoint (the note stays under the signature cap). */
export const MAX_COSIGNATURES = 32;

// Query values are attacker-controlled strings: decimal without sign, exponent or leading zeros.
const index = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/, 'expected a non-negative decimal integer')
  .transform(Number)
  .refine(Number.isSafeInteger, 'too large');

const EntriesQuery = z.strictObject({ start: index, end: index.optional() });
const LEAF_HASH = /^[0-9a-f]{64}$/;
const InclusionQuery = z
  .strictObject({
    index: index.optional(),
    leafHash: z
      .string()
      .regex(LEAF_HASH, 'expected 64 lowercase hex digits')
      .optional()
      .meta({ description: 'hex SHA-256 leaf hash: prove the first leaf with this hash' }),
    size: index.optional(),
  })
  .superRefine((q, ctx) => {
    if ((q.index === undefined) === (q.leafHash === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'give exactly one of index or leafHash',
        params: { rule: 'index-or-leafHash' },
      });
  });
const NoticesQuery = z.strictObject({
  after: index.optional().meta({ description: 'the `next` of the previous page' }),
  limit: index.optional(),
});
const ConsistencyQuery = z.strictObject({ from: index, to: index.optional() });
// Request shape: one source, @provenant/core api/requests.ts (issue 9).
const CosignatureBody = apiRequests.cosignature;

// Response shapes: one source, @provenant/core api/log.ts (issue 9).
const { logInfo, logEntries, logLeaves, logNotices } = strictApi;

/** Most notices one GET /v1/log/notices answers. */
export const MAX_NOTICES_PAGE = 1000;

function register(deps: RouteDeps<LogRouteDeps>): void {
  const o = deps.openapi;
  const json = (description: string, schema: z.ZodType) => ({
    description,
    content: { 'application/json': { schema } },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/log',
    summary: 'The log key',
    responses: { 200: json('Log identity', o.register('LogInfo', logInfo.clone())) },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/log/checkpoint',
    summary: 'Latest signed checkpoint (C2SP tlog-checkpoint signed note, with cosignatures)',
    responses: {
      200: { description: 'Signed note', content: { 'text/plain': { schema: z.string() } } },
      404: problemResponse('No checkpoint yet'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/log/entries',
    summary: `Entries start..end with their envelopes (both inclusive, as RFC 6962 get-entries; clamped to the log) in order, at most ${MAX_ENTRIES_PAGE}. Admin or the "monitor" scope only (DESIGN §6a).`,
    security: [{ [BEARER_AUTH]: [] }],
    request: { query: EntriesQuery },
    responses: {
      200: json('Entries', o.register('LogEntries', logEntries.clone())),
      400: problemResponse('Bad range'),
      401: problemResponse('No token'),
      403: problemResponse('Neither admin nor "monitor"'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/log/leaves',
    summary: `Leaf hashes start..end (both inclusive, clamped to the log) in order, at most ${MAX_ENTRIES_PAGE}; anyone (no payloads)`,
    request: { query: EntriesQuery },
    responses: {
      200: json('Leaf hashes', o.register('LogLeaves', logLeaves.clone())),
      400: problemResponse('Bad range'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/log/notices',
    summary: `The public registry notices (parties, keys, suspensions, revocations, recalls) with envelopes and receipts, in log order, at most ${MAX_NOTICES_PAGE} a page; anyone`,
    request: { query: NoticesQuery },
    responses: {
      200: json('Notices', o.register('LogNotices', logNotices.clone())),
      400: problemResponse('Bad cursor or limit'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/log/proofs/inclusion',
    summary: 'RFC 9162 inclusion proof, by leaf index or by hex leaf hash',
    request: { query: InclusionQuery },
    responses: {
      200: json('Proof', strictApi.inclusionProof),
      400: problemResponse('Bad index or size'),
      404: problemResponse('No leaf with this hash in the log'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/log/proofs/consistency',
    summary: 'RFC 9162 consistency proof (from >= 1)',
    request: { query: ConsistencyQuery },
    responses: {
      200: json('Proof', strictApi.consistencyProof),
      400: problemResponse('Bad sizes'),
    },
  });
  const stored = o.register('StoredCosignature', strictApi.cosignatureResult.clone());
  o.registerPath({
    method: 'post',
    path: '/v1/log/cosignatures',
    summary:
      "Add a registered witness's cosignature (C2SP tlog-cosignature/v1), verified before stored; other keys are 403",
    request: {
      body: {
        content: {
          'application/json': { schema: o.register('Cosignature', CosignatureBody.clone()) },
        },
      },
    },
    responses: {
      201: json('Stored', stored),
      200: json('Already stored', stored),
      400: problemResponse('Malformed'),
      403: problemResponse('Not a registered witness (POST /v1/witnesses)'),
      422: problemResponse('Unknown checkpoint or invalid cosignature'),
    },
  });
}

/** The proof size default: the latest checkpoint's size (what clients verify against). */
async function latestSize(db: Database): Promise<number> {
  return (await latestCheckpoint(db))?.size ?? (await getLogSize(db));
}

/**
 * The page start..end-1 a `?start=&end=` query asks for: `end` inclusive as in
 * RFC 6962 §4.6 / RFC 9162 get-entries, clamped to the log and the page size
 * (`end=<size>` and `end=<size-1>` both read to the end).
 */
async function pageOf(
  query: unknown,
  db: Database,
): Promise<{ start: number; end: number; size: number }> {
  const q = parse(EntriesQuery, query, 'query');
  const size = await getLogSize(db);
  if (q.start > size)
    throw badRequest(`query.start: beyond the log size ${size}.`, {
      errors: [{ path: 'query.start', rule: 'range', message: `must be at most ${size}` }],
    });
  if (q.end !== undefined && q.end < q.start)
    throw badRequest('query.end: must not be less than start.', {
      errors: [{ path: 'query.end', rule: 'range', message: 'must be >= start' }],
    });
  const end = Math.min(q.end === undefined ? size : q.end + 1, size, q.start + MAX_ENTRIES_PAGE);
  return { start: q.start, end, size };
}

/** Registers the log endpoints (DESIGN §8a). */
export const logRoutes: RouteModule<LogRouteDeps> = (router: Router, deps) => {
  const { db, logKeys } = deps;
  register(deps);

  router.get('/v1/log', (_req, res) => {
    res.json({
      origin: logKeys.origin,
      keyName: logKeys.keyName,
      publicKey: toBase64(logKeys.publicKey),
      vkey: logKeys.vkey,
      ...(deps.authorityPublicKey ? { authorityKey: toBase64Url(deps.authorityPublicKey) } : {}),
    });
  });

  router.get('/v1/log/checkpoint', async (_req, res) => {
    const cp = await latestCheckpoint(db);
    if (!cp) throw notFound('The log has no checkpoint yet.');
    const lines = (await listCosignatures(db, cp.size)).map((c) => c.line);
    const note = lines.length > 0 ? addSignatureLines(cp.note, lines) : cp.note;
    res.type('text/plain; charset=utf-8').send(note);
  });

  router.get('/v1/log/entries', async (req, res) => {
    // DESIGN §6a: payloads name trading partners; only the admin and monitors read them.
    const p = principalOf(req);
    if (!p.isAdmin && !p.scopes.includes('monitor'))
      throw forbidden('Log entries need a token with the "monitor" or "admin" scope.', {
        slug: 'insufficient-scope',
      });
    const { start, end, size } = await pageOf(req.query, db);
    const leaves = await getLeaves(db, start, end);
    res.json({
      start,
      end: end - 1,
      size,
      entries: leaves.map((l) => {
        const receipt = receiptOf(logKeys.origin, {
          index: l.idx,
          leafHash: l.leafHash,
          integratedAt: l.integratedAt,
          signature: l.receiptSignature,
        });
        return {
          index: l.idx,
          leafHash: receipt.leafHash,
          kind: l.entryKind,
          id: l.entryId,
          envelope: l.envelope,
          integratedAt: l.integratedAt,
          receipt,
        };
      }),
    });
  });

  router.get('/v1/log/leaves', async (req, res) => {
    const { start, end, size } = await pageOf(req.query, db);
    const hashes = await getLeafHashes(db, start, end);
    res.json({ start, end: end - 1, size, leaves: hashes.map(toHex) });
  });

  router.get('/v1/log/notices', async (req, res) => {
    const q = parse(NoticesQuery, req.query, 'query');
    const limit = Math.max(1, Math.min(q.limit ?? MAX_NOTICES_PAGE, MAX_NOTICES_PAGE));
    const notices = await listNotices(db, {
      ...(q.after !== undefined ? { afterLeafIdx: q.after } : {}),
      limit,
    });
    const last = notices[notices.length - 1];
    res.json({
      notices: notices.map((n) => {
        const receipt = receiptOf(logKeys.origin, n.receipt);
        return {
          index: n.leafIdx,
          leafHash: receipt.leafHash,
          id: n.id,
          type: n.type,
          envelope: n.envelope,
          receipt,
        };
      }),
      ...(notices.length === limit && last ? { next: String(last.leafIdx) } : {}),
    });
  });

  router.get('/v1/log/proofs/inclusion', async (req, res) => {
    const q = parse(InclusionQuery, req.query, 'query');
    const logSize = await getLogSize(db);
    const size = q.size ?? (await latestSize(db));
    if (q.leafHash !== undefined) {
      const found = await findLeafIndex(db, fromHex(q.leafHash)!);
      if (found === null || found >= size)
        throw notFound(`No leaf with hash ${q.leafHash} in the tree of size ${size}.`, {
          slug: 'leaf-not-found',
        });
      q.index = found;
    }
    const leafIndex = q.index!;
    if (size > logSize)
      throw badRequest(`query.size: beyond the log size ${logSize}.`, {
        errors: [{ path: 'query.size', rule: 'range', message: `must be at most ${logSize}` }],
      });
    if (leafIndex >= size)
      throw badRequest(`query.index: must be less than the tree size ${size}.`, {
        errors: [{ path: 'query.index', rule: 'range', message: `must be < ${size}` }],
      });
    const proof = await inclusionProof(leafIndex, size, storedNodeReader(db));
    res.json({ index: leafIndex, size, proof: proof.map(toHex) });
  });

  router.get('/v1/log/proofs/consistency', async (req, res) => {
    const q = parse(ConsistencyQuery, req.query, 'query');
    const logSize = await getLogSize(db);
    const to = q.to ?? (await latestSize(db));
    // DESIGN §6: a consistency proof from size 0 is an error.
    if (q.from < 1)
      throw badRequest(
        'query.from: must be at least 1 (no consistency proof from the empty tree).',
        {
          errors: [{ path: 'query.from', rule: 'range', message: 'must be >= 1' }],
        },
      );
    if (to > logSize)
      throw badRequest(`query.to: beyond the log size ${logSize}.`, {
        errors: [{ path: 'query.to', rule: 'range', message: `must be at most ${logSize}` }],
      });
    if (q.from > to)
      throw badRequest('query.from: must not exceed to.', {
        errors: [{ path: 'query.from', rule: 'range', message: `must be <= ${to}` }],
      });
    const proof = await consistencyProof(q.from, to, storedNodeReader(db));
    res.json({ from: q.from, to, proof: proof.map(toHex) });
  });

  router.post('/v1/log/cosignatures', async (req, res) => {
    const body = parse(CosignatureBody, req.body, 'body');
    let witness: NoteVerifierKey;
    try {
      witness = parseVerifierKey(body.witness);
    } catch (err) {
      throw badRequest(`body.witness: ${(err as Error).message}.`, {
        errors: [{ path: 'body.witness', rule: 'vkey', message: 'not a C2SP verifier key' }],
      });
    }
    if (witness.type !== 'cosignature/v1')
      throw badRequest('body.witness: a witness key must have type 0x04 (cosignature/v1).', {
        errors: [{ path: 'body.witness', rule: 'vkey-type', message: 'expected cosignature/v1' }],
      });
    // DESIGN §6 (issue 10 #6): registered witnesses only, checked before any
    // other work, so an unregistered key never touches a limit or the storage.
    const registered = await getWitness(db, witness.name);
    if (
      !registered ||
      !bytesEqual(registered.publicKey, witness.publicKey) ||
      !bytesEqual(registered.keyId, witness.keyId)
    )
      throw forbidden(`${witness.name} is not a registered witness with this key.`, {
        slug: 'witness-not-registered',
      });
    let size = body.size;
    if (size === undefined && body.checkpoint !== undefined) {
      try {
        const text = body.checkpoint.includes('\n\n')
          ? parseSignedNote(body.checkpoint).text
          : body.checkpoint;
        size = parseCheckpoint(text).size;
      } catch (err) {
        throw badRequest(`body.checkpoint: ${(err as Error).message}.`, {
          errors: [{ path: 'body.checkpoint', rule: 'checkpoint', message: 'not a checkpoint' }],
        });
      }
    }
    const cp = size === undefined ? await latestCheckpoint(db) : await getCheckpoint(db, size);
    if (!cp)
      throw unprocessable('The log signed no checkpoint of that size.', {
        slug: 'checkpoint-unknown',
      });
    // Verified against the note the log signed, never against text the caller sent.
    const v = verifyCosignature(cp.note, body.cosignature, witness, nodeBackend);
    if (!v.ok)
      throw unprocessable(`The cosignature does not verify (${v.detail}).`, {
        slug: 'cosignature-invalid',
      });
    const existing = await listCosignatures(db, cp.size);
    if (
      existing.length >= MAX_COSIGNATURES &&
      !existing.some((c) => c.witnessName === witness.name)
    )
      throw unprocessable(`A checkpoint keeps at most ${MAX_COSIGNATURES} cosignatures.`, {
        slug: 'too-many-cosignatures',
      });
    const line = body.cosignature.endsWith('\n') ? body.cosignature.slice(0, -1) : body.cosignature;
    const stored = await insertCosignature(db, {
      checkpointSize: cp.size,
      witnessName: witness.name,
      keyId: witness.keyId,
      line,
    });
    res.status(stored ? 201 : 200).json({
      size: cp.size,
      witness: witness.name,
      keyId: toHex(witness.keyId),
      timestamp: v.timestamp,
      stored,
    });
  });
};
