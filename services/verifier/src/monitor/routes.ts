// GET /v1/verifier (the verifier key and where the monitor stands), POST
// /v1/verifier/alarms/{id}/ack and POST /v1/verifier/audit (admin) (DESIGN §7b).
import type { Router } from 'express';
import { z } from 'zod';
import { strictApi, toBase64, toHex, type ApiResponse } from '@provenant/core';
import {
  ackVerifierAlarm,
  countOpenVerifierAlarms,
  getVerifierStatus,
  type Queryable,
  type VerifierAlarm,
  type VerifierStatus,
} from '@provenant/store';
import {
  BEARER_AUTH,
  notFound,
  parse,
  principalOf,
  problemResponse,
  requireScope,
  unavailable,
  type OpenAPIRegistry,
  type RouteModule,
} from '@provenant/server-kit';
import type { VerifierDeps } from '../deps.js';
import { auditVerifier } from './audit.js';

const RECEIPT_HOWTO =
  'A verification receipt is signed over JCS({v, id, subject, party, purpose, verdict, reasons, checkpoint, verifiedAt, nonce, kid}): drop `signature`, canonicalize the rest (RFC 8785), verify the Ed25519 signature with this key. Check that subject, party, purpose and nonce are those of your request and verifiedAt is within 5 minutes of your clock.';

const AlarmParams = z.strictObject({ id: z.string().regex(/^\d{1,15}$/, 'expected an alarm id') });

/** Registers this module's paths and schemas in an OpenAPI registry. */
export function registerMonitorPaths(o: OpenAPIRegistry): void {
  const security = [{ [BEARER_AUTH]: [] }];
  o.registerPath({
    method: 'get',
    path: '/v1/verifier',
    summary:
      'The public key that signs verification receipts, and where the log monitor stands: verified size, log size, lag and alarms (DESIGN §7b)',
    responses: {
      200: {
        description: 'The verifier',
        content: {
          'application/json': {
            schema: o.register('VerifierStatus', strictApi.verifierStatus.clone()),
          },
        },
      },
    },
  });
  o.registerPath({
    method: 'post',
    path: '/v1/verifier/alarms/{id}/ack',
    summary:
      'Acknowledge a monitor alarm (admin); a standalone verifier is ready again once every alarm is acknowledged',
    security,
    request: { params: AlarmParams },
    responses: {
      200: {
        description: 'The acknowledged alarm',
        content: {
          'application/json': {
            schema: o.register('VerifierAlarm', strictApi.verifierAlarm.clone()),
          },
        },
      },
      400: problemResponse('Not an alarm id'),
      401: problemResponse('No token'),
      403: problemResponse('Not an admin token'),
      404: problemResponse('No such alarm'),
    },
  });
  o.registerPath({
    method: 'post',
    path: '/v1/verifier/audit',
    summary:
      'Re-verify every log entry from index 0 against the stored verified state (admin); what fails raises alarms',
    security,
    responses: {
      200: {
        description: 'The audit report',
        content: {
          'application/json': {
            schema: o.register('AuditReport', strictApi.auditReport.clone()),
          },
        },
      },
      401: problemResponse('No token'),
      403: problemResponse('Not an admin token'),
    },
  });
}

/** Seconds since the oldest entry the monitor has not verified was logged (0 when caught up). */
function lagSeconds(s: VerifierStatus, nowMs: number): number {
  if (s.verifiedSize >= s.logSize) return 0;
  const at = s.oldestUnverifiedAt === null ? nowMs : new Date(s.oldestUnverifiedAt).getTime();
  return Math.max(0, Math.round((nowMs - at) / 100) / 10);
}

function alarmView(a: VerifierAlarm, full: boolean): ApiResponse<'verifierAlarm'> {
  return {
    id: a.id,
    code: a.code,
    logIndex: a.logIndex,
    foundBy: a.foundBy,
    raisedAt: a.raisedAt,
    ackedAt: a.ackedAt,
    ...(full ? { subject: a.subject, message: a.message } : {}),
  };
}

/**
 * Readiness of a standalone verifier (DESIGN §7b): not ready while an alarm
 * is unacknowledged. @throws HttpProblem 503 `verifier-alarm`.
 */
export async function assertNoOpenAlarm(q: Queryable): Promise<void> {
  const open = await countOpenVerifierAlarms(q);
  if (open > 0)
    throw unavailable(
      `The log monitor has ${open} unacknowledged alarm(s): see GET /v1/verifier.`,
      {
        slug: 'verifier-alarm',
      },
    );
}

/**
 * Readiness of a standalone verifier (DESIGN §7b): its monitor follows the log,
 * and no alarm is open. A monitor whose stored state is bound to a checkpoint
 * that does not verify under this verifier's log key (another trust file, or a
 * checkpoint note an insider rewrote in verifier_cursor) does not follow the
 * log at all: not ready, without an alarm in the shared tables (another
 * verifier's trust may be the right one).
 * @throws HttpProblem 503 `verifier-not-monitoring` or `verifier-alarm`.
 */
export async function assertMonitoring(deps: Pick<VerifierDeps, 'db' | 'monitor'>): Promise<void> {
  if (deps.monitor.foreign)
    throw unavailable(
      "The log monitor does not follow this log: the verifier's stored state is bound to a checkpoint that does not verify under the trust file's log key.",
      { slug: 'verifier-not-monitoring' },
    );
  await assertNoOpenAlarm(deps.db);
}

/** Registers the monitor's endpoints. */
export const monitorRoutes: RouteModule<VerifierDeps> = (router: Router, deps) => {
  registerMonitorPaths(deps.openapi);
  const admin = requireScope('admin');

  router.get('/v1/verifier', async (req, res) => {
    const p = req.principal;
    const full = !!p && (p.isAdmin || p.scopes.includes('monitor'));
    // One statement: the cursor, the log size, the lag's start and the alarms in one snapshot.
    const s = await getVerifierStatus(deps.db, 100);
    const cp = s.checkpoint;
    const status: ApiResponse<'verifierStatus'> = {
      publicKey: toBase64(deps.verifierKey.publicKey),
      kid: deps.verifierKey.kid,
      algorithm: 'Ed25519',
      receipt: RECEIPT_HOWTO,
      verifiedSize: s.verifiedSize,
      logSize: s.logSize,
      lagSeconds: lagSeconds(s, deps.now()),
      checkpoint: cp ? { size: cp.size, rootHash: toHex(cp.rootHash) } : null,
      alarms: s.alarms.map((a) => alarmView(a, full)),
    };
    res.json(status);
  });

  router.post('/v1/verifier/alarms/:id/ack', admin, async (req, res) => {
    const { id } = parse(AlarmParams, req.params, 'params');
    const p = principalOf(req);
    const a = await ackVerifierAlarm(deps.db, Number(id), p.gln ?? 'admin');
    if (!a) throw notFound(`No alarm ${id}.`, { slug: 'alarm-not-found' });
    res.json(alarmView(a, true));
  });

  router.post('/v1/verifier/audit', admin, async (_req, res) => {
    const report = await auditVerifier(deps);
    res.json(report);
  });
};
