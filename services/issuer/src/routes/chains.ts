// Chains and offline bundles (DESIGN §5, §7, §8a): GET /v1/chains/{subject}
// serves one subject's records with envelopes and receipts, its status and
// effective custodian; GET /v1/bundles/{subject} serves the offline bundle of
// packages/core/src/bundle.ts (everything verifyBundle needs, every entry
// proved into ONE checkpoint). Reads only.
//
// Subjects appear in Digital Link path form with their slashes
// (`/v1/chains/01/{gtin}/21/{serial}`, `/v1/chains/00/{sscc}`), so the routes
// name each segment; a serial may be percent-encoded (`ABC%2F1`). A subject
// percent-encoded into one segment is accepted too.
//
// Chain status (decision; DESIGN §5 states, most severe first):
//   decommissioned  the unit was decommissioned, or the logistic unit was
//                   opened (unpacked: it takes no more records)
//   quarantined     a hold on the subject, or on the container it is in
//   in_transit      shipped and not yet received (itself or its container)
//   contained       packed in a logistic unit
//   active          otherwise
import type { Router } from 'express';
import { z } from 'zod';
import {
  addSignatureLines,
  effectiveCustody,
  gtinOfSubject,
  inclusionProofNodes,
  toHex,
  type Bundle,
  type BundleEntry,
  type ChainState,
  type CustodyContext,
  type Envelope,
  type NodeRef,
} from '@provenant/core';
import { formatSubject, Gs1Error } from '@provenant/gs1';
import {
  getChain,
  getHead,
  getNodes,
  isChainParty,
  latestCheckpoint,
  listCosignatures,
  toReceipt,
  type LeafReceipt,
  type Queryable,
} from '@provenant/store';
import type { RouteDeps, RouteModule } from '../app.js';
import { principalOf, type Principal } from '../http/auth.js';
import { BEARER_AUTH, problemResponse } from '../http/openapi.js';
import { badRequest, notFound } from '../http/problem.js';
import { nodeHashFast } from '../log/fast.js';
import { receiptOf, type Receipt } from '../log/receipts.js';
import { LogStorageError } from '../log/tree.js';
import type { IssuerDeps } from '../issuer.js';
import { resolveSubject, SubjectInputError } from './custodial/subjects.js';

/** Chain status as GET /v1/chains answers it (see the table at the top of this file). */
export type ChainStatus = 'active' | 'in_transit' | 'contained' | 'decommissioned' | 'quarantined';

/** Most node references fetched per query while proving a bundle. */
const NODE_CHUNK = 20_000;

// ---------------------------------------------------------------------------
// Subjects from path segments (attacker-controlled).

/** The canonical subject of `01/{gtin}/21/{serial}`; Express has already percent-decoded the serial. */
function unitFromParams(params: Record<string, string | string[] | undefined>): string {
  const gtin = params.gtin;
  const serial = params.serial;
  if (typeof gtin !== 'string' || !/^\d{14}$/.test(gtin))
    throw badRequest('params.gtin: expected a GTIN-14 (14 digits).', {
      errors: [{ path: 'params.gtin', rule: 'gtin', message: 'expected 14 digits' }],
    });
  try {
    return formatSubject({ gtin, serial: typeof serial === 'string' ? serial : '' });
  } catch (err) {
    if (!(err instanceof Gs1Error)) throw err;
    const path = err.ai === '21' ? 'params.serial' : 'params.gtin';
    throw badRequest(`${path}: ${err.message}.`, {
      errors: [{ path, rule: err.code.toLowerCase().replace(/_/g, '-'), message: err.message }],
    });
  }
}

function containerFromParams(params: Record<string, string | string[] | undefined>): string {
  const sscc = params.sscc;
  try {
    if (typeof sscc !== 'string' || !/^\d{18}$/.test(sscc))
      throw new Gs1Error('BAD_SUBJECT', 'expected an SSCC (18 digits)', '00');
    return formatSubject({ sscc });
  } catch (err) {
    if (!(err instanceof Gs1Error)) throw err;
    throw badRequest(`params.sscc: ${err.message}.`, {
      errors: [
        {
          path: 'params.sscc',
          rule: err.code.toLowerCase().replace(/_/g, '-'),
          message: err.message,
        },
      ],
    });
  }
}

/**
 * A subject sent as ONE path segment (`/v1/chains/01%2F…%2F21%2FABC%252F1`,
 * what a client gets from encodeURIComponent(subject)), or any other DESIGN §3
 * form that fits in a segment; Express has decoded it once.
 */
function subjectFromParam(params: Record<string, string | string[] | undefined>): string {
  const text = params.subject;
  try {
    if (typeof text !== 'string') throw new SubjectInputError('subject', 'expected a subject');
    return resolveSubject(text);
  } catch (err) {
    if (!(err instanceof SubjectInputError)) throw err;
    throw badRequest(`params.subject: ${err.message}.`, {
      errors: [{ path: 'params.subject', rule: err.rule, message: err.message }],
    });
  }
}

// ---------------------------------------------------------------------------
// GET /v1/chains/{subject}

/** The status of a chain head (see the table at the top of this file). */
export function chainStatus(state: ChainState, ctx: CustodyContext): ChainStatus {
  if (!state.active || state.unpacked) return 'decommissioned';
  const eff = effectiveCustody(state, ctx);
  if (eff.quarantined) return 'quarantined';
  if (eff.inTransit) return 'in_transit';
  if (state.containedIn !== null) return 'contained';
  return 'active';
}

interface ChainView {
  subject: string;
  status: ChainStatus;
  custodian: string;
  records: {
    id: string;
    seq: number;
    type: string;
    actor: string;
    time: string;
    data: unknown;
    envelope: unknown;
    receipt: Receipt;
  }[];
}

async function chainView(q: Queryable, origin: string, subject: string): Promise<ChainView> {
  // Head first: a head commits with its records, so every record up to head.seq is readable after it.
  const head = await getHead(q, subject);
  const records = head ? await getChain(q, subject) : [];
  if (records.length === 0 || !head) throw chainNotFound(subject);
  const state = head.state as ChainState;
  // Its containers, every level up (DESIGN §5: containers nest): custody is the outermost's.
  const states = new Map<string, ChainState>([[subject, state]]);
  for (let up = state.containedIn; up !== null && !states.has(up);) {
    const ps = (await getHead(q, up))?.state as ChainState | undefined;
    if (!ps) break;
    states.set(up, ps);
    up = ps.containedIn;
  }
  const ctx: CustodyContext = { party: () => undefined, state: (s) => states.get(s) };
  // Records appended after the head was read wait for the next request.
  const shown = records.filter((r) => r.seq <= head.seq);
  return {
    subject,
    status: chainStatus(state, ctx),
    custodian: effectiveCustody(state, ctx).custodian,
    records: shown.map((r) => ({
      id: r.id,
      seq: r.seq,
      type: r.type,
      actor: r.actor,
      time: r.time,
      data: r.data,
      envelope: r.envelope,
      receipt: receiptOf(origin, r.receipt),
    })),
  };
}

// ---------------------------------------------------------------------------
// GET /v1/bundles/{subject}

/** One logged entry before its proof is attached. */
interface Logged {
  envelope: unknown;
  receipt: LeafReceipt;
}

/** A leaf's envelope column: JCS text (migration 000002) or, from older rows, parsed jsonb. */
function envelopeValue(v: unknown): unknown {
  return typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
}

const REGISTRY_BY_GLN = ['party', 'party-suspend', 'party-reinstate'];
const REGISTRY_BY_KID = ['key', 'key-suspend', 'key-reinstate', 'key-revoke'];

interface NoticeRow {
  actor: string;
  kid: string;
  logged: Logged;
}

/**
 * Notices logged before `size` that concern the given parties (registration,
 * suspension, reinstatement), keys (registration, suspension, revocation) or
 * GTINs (recalls). One query; uses the data->>'kid' and data->>'gtin' indexes.
 */
async function findRelevantNotices(
  q: Queryable,
  size: number,
  glns: readonly string[],
  kids: readonly string[],
  gtins: readonly string[],
): Promise<NoticeRow[]> {
  const { rows } = await q.query(
    `SELECT n.actor, n.kid, l.envelope, n.leaf_idx, l.leaf_hash, l.integrated_at, l.receipt_signature
     FROM notices n JOIN log_leaves l ON l.idx = n.leaf_idx
     WHERE n.leaf_idx < $1::bigint AND (
       (n.type = ANY($2::text[]) AND (n.data ->> 'gln') = ANY($3::text[]))
       OR (n.type = ANY($4::text[]) AND (n.data ->> 'kid') = ANY($5::text[]))
       OR (n.type = 'recall' AND (n.data ->> 'gtin') = ANY($6::text[])))
     ORDER BY n.leaf_idx`,
    [size, REGISTRY_BY_GLN, [...glns], REGISTRY_BY_KID, [...kids], [...gtins]],
  );
  return rows.map((r) => ({
    actor: r.actor as string,
    kid: r.kid as string,
    logged: { envelope: envelopeValue(r.envelope), receipt: toReceipt(r) },
  }));
}

/** Right fold h(c1, h(c2, … ck)) of a proof element's complete subtrees (RFC 9162 §2.1.1). */
function fold(hashes: Uint8Array[]): Uint8Array {
  let h = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHashFast(hashes[i]!, h);
  return h;
}

/**
 * RFC 9162 inclusion proofs of every index in the tree of `size` leaves. The
 * complete subtrees of all proofs are listed (core's inclusionProofNodes),
 * deduplicated, and fetched in a few unnest queries: a 10,000-unit pallet
 * costs a handful of round trips, not one per proof.
 * @throws LogStorageError when a stored subtree is missing.
 */
export async function inclusionProofs(
  q: Queryable,
  indices: readonly number[],
  size: number,
): Promise<Map<number, string[]>> {
  // Nodes keyed per level by index (numeric keys: a pallet's proofs list ~10^5 of them).
  const levels: Map<number, Uint8Array | null>[] = [];
  const plans = new Map<number, NodeRef[][]>();
  for (const i of indices) {
    if (plans.has(i)) continue;
    const plan = inclusionProofNodes(i, size);
    plans.set(i, plan);
    for (const element of plan)
      for (const r of element) (levels[r.level] ??= new Map()).set(r.index, null);
  }
  const refs: NodeRef[] = [];
  levels.forEach((m, level) => {
    for (const index of m.keys()) refs.push({ level, index });
  });
  for (let at = 0; at < refs.length; at += NODE_CHUNK) {
    const chunk = refs.slice(at, at + NODE_CHUNK);
    const got = await getNodes(
      q,
      chunk.map((r) => ({ level: r.level, idx: r.index })),
    );
    chunk.forEach((r, j) => {
      const h = got[j];
      if (!h || h.length !== 32)
        throw new LogStorageError(`subtree (${r.level}, ${r.index}) is missing`);
      levels[r.level]!.set(r.index, h);
    });
  }
  const node = (r: NodeRef) => levels[r.level]!.get(r.index)!;
  // Hex of single-node elements (nearly all of them), computed once per node.
  const hexes: Map<number, string>[] = [];
  // Multi-node elements (the tree's ragged right edge) repeat across proofs: fold each once.
  const folded = new Map<string, string>();
  const out = new Map<number, string[]>();
  for (const [i, plan] of plans) {
    out.set(
      i,
      plan.map((element) => {
        if (element.length > 1) {
          const key = element.map((r) => `${r.level}:${r.index}`).join(',');
          let hex = folded.get(key);
          if (hex === undefined) folded.set(key, (hex = toHex(fold(element.map(node)))));
          return hex;
        }
        const r = element[0]!;
        const m = (hexes[r.level] ??= new Map());
        let hex = m.get(r.index);
        if (hex === undefined) {
          hex = toHex(node(r));
          m.set(r.index, hex);
        }
        return hex;
      }),
    );
  }
  return out;
}

/** A record as a bundle needs it: its place, signer, parent (pack/unpack), children (a pack of them) and log entry. */
interface BundleRecord {
  subject: string;
  seq: number;
  actor: string;
  kid: string;
  parent: string | null;
  children: string[];
  logged: Logged;
}

/**
 * The records of `subjects` logged before leaf `size`, each chain in seq
 * order. Joined through unnest (one index probe per subject: `= ANY` over
 * 10,000 subjects is an order of magnitude slower) and without the payload
 * bytes and data, which a bundle does not need.
 */
async function bundleChains(
  q: Queryable,
  subjects: readonly string[],
  size: number,
): Promise<Map<string, BundleRecord[]>> {
  const out = new Map<string, BundleRecord[]>();
  if (subjects.length === 0) return out;
  const { rows } = await q.query(
    `SELECT r.subject, r.seq, r.actor, r.kid, r.type, r.data ->> 'parent' AS parent,
            CASE WHEN r.type = 'pack' THEN r.data -> 'children' END AS children, l.envelope,
            r.leaf_idx, l.leaf_hash, l.integrated_at, l.receipt_signature
     FROM unnest($1::text[]) AS u(subject)
     JOIN records r ON r.subject = u.subject
     JOIN log_leaves l ON l.idx = r.leaf_idx
     WHERE r.leaf_idx < $2::bigint
     ORDER BY r.subject, r.seq`,
    [[...new Set(subjects)], size],
  );
  for (const r of rows) {
    const type = r.type as string;
    const rec: BundleRecord = {
      subject: r.subject as string,
      seq: Number(r.seq),
      actor: r.actor as string,
      kid: r.kid as string,
      parent:
        (type === 'pack' || type === 'unpack') && typeof r.parent === 'string' ? r.parent : null,
      children: childSubjects(r.children),
      logged: { envelope: envelopeValue(r.envelope), receipt: toReceipt(r) },
    };
    const list = out.get(rec.subject);
    if (list) list.push(rec);
    else out.set(rec.subject, [rec]);
  }
  return out;
}

/** Subjects of a pack's children column (jsonb, or its text from some drivers). */
function childSubjects(v: unknown): string[] {
  const list = typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
  if (!Array.isArray(list)) return [];
  return list
    .map((c) => (c as { subject?: unknown } | null)?.subject)
    .filter((s): s is string => typeof s === 'string');
}

/**
 * Assembles the offline bundle of `subject` (core bundle.ts): its chain, the
 * chain of every container it was packed in (every level up), for a container
 * every child's chain at every level (DESIGN §5: containers nest) and their
 * containers' chains; the party and key notices of
 * every actor and key involved (and of the signers of those notices), their
 * suspensions, reinstatements and revocations, and the recalls of every GTIN
 * involved. The checkpoint is read first; everything logged after it is left
 * out, and every proof is for that checkpoint's size.
 * Returns null when the subject has no chain in that checkpoint.
 */
export async function buildBundle(
  q: Queryable,
  origin: string,
  subject: string,
): Promise<Bundle | null> {
  const cp = await latestCheckpoint(q);
  if (!cp || cp.size === 0) return null;
  const size = cp.size;

  const chains = await bundleChains(q, [subject], size);
  if (!chains.has(subject)) return null;
  // A container: every child listed by its pack of children, level by level.
  const childrenOf = (subjects: Iterable<string>) => {
    const out = new Set<string>();
    for (const s of subjects)
      for (const r of chains.get(s) ?? [])
        for (const c of r.children) if (!chains.has(c)) out.add(c);
    return [...out];
  };
  for (let level = childrenOf([subject]); level.length > 0;) {
    const found = await bundleChains(q, level, size);
    for (const [s, list] of found) chains.set(s, list);
    level = childrenOf(found.keys());
  }
  // Every container any chain here was ever packed in, every level up.
  // (A parent with no chain in this checkpoint, sealed after it, is asked for once.)
  const asked = new Set<string>();
  for (;;) {
    const containers = new Set<string>();
    for (const list of chains.values())
      for (const r of list)
        if (r.parent !== null && !chains.has(r.parent) && !asked.has(r.parent))
          containers.add(r.parent);
    if (containers.size === 0) break;
    for (const c of containers) asked.add(c);
    for (const [s, list] of await bundleChains(q, [...containers], size)) chains.set(s, list);
  }

  // Notices: iterate until the signers of the notices found are covered too.
  const glns = new Set<string>();
  const kids = new Set<string>();
  const gtins = new Set<string>();
  for (const [s, list] of chains) {
    const gtin = gtinOfSubject(s);
    if (gtin) gtins.add(gtin);
    for (const r of list) {
      glns.add(r.actor);
      kids.add(r.kid);
    }
  }
  const notices = new Map<number, Logged>();
  let newGlns = [...glns];
  let newKids = [...kids];
  let newGtins = [...gtins];
  for (let round = 0; round < 8 && newGlns.length + newKids.length + newGtins.length > 0; round++) {
    const found = await findRelevantNotices(q, size, newGlns, newKids, newGtins);
    newGlns = [];
    newKids = [];
    newGtins = [];
    for (const n of found) {
      notices.set(n.logged.receipt.index, n.logged);
      // A recall or a party's own key revocation is signed by a party key: prove that key too.
      if (n.actor !== 'authority') {
        if (!glns.has(n.actor)) {
          glns.add(n.actor);
          newGlns.push(n.actor);
        }
        if (!kids.has(n.kid)) {
          kids.add(n.kid);
          newKids.push(n.kid);
        }
      }
    }
  }

  const indices: number[] = [...notices.keys()];
  for (const list of chains.values()) for (const r of list) indices.push(r.logged.receipt.index);
  const proofs = await inclusionProofs(q, indices, size);
  const entry = (l: Logged): BundleEntry => ({
    envelope: l.envelope as Envelope,
    receipt: receiptOf(origin, l.receipt),
    proof: proofs.get(l.receipt.index)!,
  });

  const lines = (await listCosignatures(q, size)).map((c) => c.line);
  const checkpoint = lines.length > 0 ? addSignatureLines(cp.note, lines) : cp.note;
  const out: Record<string, BundleEntry[]> = {};
  for (const [s, list] of chains) out[s] = list.map((r) => entry(r.logged));
  return {
    v: 1,
    subject,
    checkpoint,
    chains: out,
    notices: [...notices.keys()].sort((a, b) => a - b).map((i) => entry(notices.get(i)!)),
  };
}

// ---------------------------------------------------------------------------
// OpenAPI and routes.

const ReceiptView = z.object({
  origin: z.string(),
  index: z.number().int(),
  leafHash: z.string(),
  integratedAt: z.string(),
  signature: z.string(),
});
const ChainResponse = z.object({
  subject: z.string(),
  status: z.enum(['active', 'in_transit', 'contained', 'decommissioned', 'quarantined']),
  custodian: z.string().meta({
    description: 'effective custodian: a contained unit is held by its container’s custodian',
  }),
  records: z.array(
    z.object({
      id: z.string(),
      seq: z.number().int(),
      type: z.string(),
      actor: z.string(),
      time: z.string(),
      data: z.unknown(),
      envelope: z.unknown(),
      receipt: ReceiptView,
    }),
  ),
});
const BundleEntryView = z.object({
  envelope: z.unknown(),
  receipt: ReceiptView,
  proof: z.array(z.string()),
});
const BundleResponse = z.object({
  v: z.literal(1),
  subject: z.string(),
  checkpoint: z.string().meta({ description: 'C2SP signed note (with witness cosignatures)' }),
  chains: z.record(z.string(), z.array(BundleEntryView)),
  notices: z.array(BundleEntryView),
});

function register(deps: RouteDeps<IssuerDeps>): void {
  const o = deps.openapi;
  const chain = o.register('Chain', ChainResponse);
  const bundle = o.register('Bundle', BundleResponse);
  const security = [{ [BEARER_AUTH]: [] }];
  const forms = [
    { suffix: '01/{gtin}/21/{serial}', params: z.object({ gtin: z.string(), serial: z.string() }) },
    { suffix: '00/{sscc}', params: z.object({ sscc: z.string() }) },
    {
      suffix: '{subject}',
      params: z.object({
        subject: z.string().meta({
          description:
            'The subject as one percent-encoded segment, e.g. 01%2F09506000134352%2F21%2FABC',
        }),
      }),
    },
  ];
  for (const f of forms) {
    o.registerPath({
      method: 'get',
      path: `/v1/chains/${f.suffix}`,
      summary:
        'A subject’s records with envelopes and receipts, its status and effective custodian',
      security,
      request: { params: f.params },
      responses: {
        200: { description: 'The chain', content: { 'application/json': { schema: chain } } },
        400: problemResponse('Bad GTIN, serial or SSCC'),
        401: problemResponse('No token'),
        404: problemResponse('No chain for the subject'),
      },
    });
    o.registerPath({
      method: 'get',
      path: `/v1/bundles/${f.suffix}`,
      summary: 'Offline verification bundle: every entry proved into the latest checkpoint',
      security,
      request: { params: f.params },
      responses: {
        200: { description: 'The bundle', content: { 'application/json': { schema: bundle } } },
        400: problemResponse('Bad GTIN, serial or SSCC'),
        401: problemResponse('No token'),
        404: problemResponse('No chain for the subject'),
      },
    });
  }
}

/**
 * DESIGN §6a: a chain is read by the parties in it (or in its container's
 * chain) as actor or `to`, the admin and monitors; anyone else gets exactly
 * the 404 of an unknown subject.
 */
async function mayRead(q: Queryable, subject: string, p: Principal): Promise<boolean> {
  if (p.isAdmin || p.scopes.includes('monitor')) return true;
  return p.gln !== null && (await isChainParty(q, subject, p.gln));
}

const chainNotFound = (subject: string) =>
  notFound(`No chain for ${subject}.`, { slug: 'chain-not-found' });
const bundleNotFound = (subject: string) =>
  notFound(`No chain for ${subject} in the latest checkpoint.`, { slug: 'chain-not-found' });

/** Registers GET /v1/chains/{subject} and GET /v1/bundles/{subject}. */
export const chainRoutes: RouteModule<IssuerDeps> = (router: Router, deps) => {
  const { db, logKeys } = deps;
  register(deps);

  const chain = async (p: Principal, subject: string) => {
    if (!(await mayRead(db, subject, p))) throw chainNotFound(subject);
    return chainView(db, logKeys.origin, subject);
  };
  router.get('/v1/chains/01/:gtin/21/:serial', async (req, res) => {
    const p = principalOf(req);
    res.json(await chain(p, unitFromParams(req.params)));
  });
  router.get('/v1/chains/00/:sscc', async (req, res) => {
    const p = principalOf(req);
    res.json(await chain(p, containerFromParams(req.params)));
  });
  router.get('/v1/chains/:subject', async (req, res) => {
    const p = principalOf(req);
    res.json(await chain(p, subjectFromParam(req.params)));
  });

  const bundle = async (p: Principal, subject: string) => {
    if (!(await mayRead(db, subject, p))) throw bundleNotFound(subject);
    const b = await buildBundle(db, logKeys.origin, subject);
    if (!b) throw bundleNotFound(subject);
    return b;
  };
  router.get('/v1/bundles/01/:gtin/21/:serial', async (req, res) => {
    const p = principalOf(req);
    res.json(await bundle(p, unitFromParams(req.params)));
  });
  router.get('/v1/bundles/00/:sscc', async (req, res) => {
    const p = principalOf(req);
    res.json(await bundle(p, containerFromParams(req.params)));
  });
  router.get('/v1/bundles/:subject', async (req, res) => {
    const p = principalOf(req);
    res.json(await bundle(p, subjectFromParam(req.params)));
  });
};
