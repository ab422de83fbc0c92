// Verification idempotency under replicas (issue 11, DESIGN §8, §10): two
// service instances (two createApp on one database) given the same
// Idempotency-Key at once store one verification and give one answer.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { unitSubject } from '@provenant/core';
import { startReplicas, withCheckDigit, type Replicas } from './support/verifier.js';

const GTIN = withCheckDigit('1061414100011');
const unit = (serial: string) => unitSubject(GTIN, serial);

describe('two replicas given the same Idempotency-Key at once', () => {
  let r: Replicas;

  beforeAll(async () => {
    r = await startReplicas(withCheckDigit('061414100010'), withCheckDigit('061414100011'));
    await r.api.commission(r.mfr, GTIN, ['R1', 'R2', 'R3', 'R4']);
    await r.api.ship(r.mfr, [unit('R1'), unit('R2')], r.dist, 'ASN-R');
  });
  afterAll(async () => {
    await r.world.stop();
  });

  /** POST /v1/verifications on both replicas at once with one key. */
  function both(key: string, bodies: [object, object]) {
    r.meet.expect(2);
    return Promise.all(
      r.replicas.map((app, i) =>
        request(app)
          .post('/v1/verifications')
          .set({ Authorization: `Bearer ${r.dist.token}`, 'Idempotency-Key': key })
          .send(bodies[i]!),
      ),
    );
  }

  async function stored(subject: string): Promise<{ verifications: number; cases: number }> {
    const v = await r.world.issuer.db.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM verifications WHERE party = $1::text AND subject = $2::text',
      [r.dist.gln, subject],
    );
    const c = await r.world.issuer.db.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM cases WHERE party = $1::text AND subject = $2::text',
      [r.dist.gln, subject],
    );
    return { verifications: Number(v.rows[0]!.n), cases: Number(c.rows[0]!.n) };
  }

  it.each([
    {
      name: 'store one verification and answer both with it (accept)',
      serial: 'R1',
      verdict: 'accept',
      same: 'receipt',
      cases: 0,
    },
    {
      // R3 was never shipped to the distributor: quarantine, and a case opens.
      name: 'store one verification and open one case (a quarantine at receiving)',
      serial: 'R3',
      verdict: 'quarantine',
      same: 'case',
      cases: 1,
    },
  ])('$name', async ({ serial, verdict, same, cases }) => {
    const body = { subject: unit(serial), purpose: 'receiving' };
    const [a, b] = await both(`replica-${verdict}`, [body, body]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.verdict).toBe(verdict);
    expect(b.body.id).toBe(a.body.id);
    expect(b.body[same]).toEqual(a.body[same]);
    expect(await stored(unit(serial))).toEqual({ verifications: 1, cases });
  });

  it('answer the second of two different requests with the same key 422, storing one', async () => {
    const [a, b] = await both('replica-different', [
      { subject: unit('R2'), purpose: 'receiving' },
      { subject: unit('R2'), purpose: 'dispense' },
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 422]);
    const refused = a.status === 422 ? a : b;
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body.type).toBe('urn:provenant:problem:idempotency-key-reused');
    expect((await stored(unit('R2'))).verifications).toBe(1);
  });

  it('still store each verification without a key', async () => {
    r.meet.expect(2);
    const body = { subject: unit('R4'), purpose: 'dispense' };
    const answers = await Promise.all(
      r.replicas.map((app) =>
        request(app)
          .post('/v1/verifications')
          .set('Authorization', `Bearer ${r.mfr.token}`)
          .send(body),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual([201, 201]);
    expect(answers[0]!.body.id).not.toBe(answers[1]!.body.id);
  });
});
