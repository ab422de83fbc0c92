// Verification Idempotency-Keys (DESIGN §8, issue 11): kept 24 hours, then
// the key is free again and starts a new verification; expired keys are
// pruned by the worker's prune pass; verifications themselves stay
// append-only. Two replicas given the same key at once, fresh or expired,
// store one verification.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { unitSubject } from '@provenant/core';
import { WebhookWorker, webhookSettingsOf } from '@provenant/issuer';
import { startReplicas, withCheckDigit, type Replicas } from './support/verifier.js';

const GTIN = withCheckDigit('1061414100031');
const unit = (serial: string) => unitSubject(GTIN, serial);

describe('a verification Idempotency-Key (DESIGN §8)', () => {
  let r: Replicas;

  beforeAll(async () => {
    r = await startReplicas(withCheckDigit('061414100030'), withCheckDigit('061414100031'));
    const serials = ['I1', 'I2', 'I3', 'I4', 'I5', 'I6'];
    await r.api.commission(r.mfr, GTIN, serials);
    await r.api.ship(r.mfr, serials.map(unit), r.dist, 'ASN-I');
  });
  afterAll(async () => {
    await r.world.stop();
  });

  const verify = (key: string, body: object, app = r.replicas[0]!) =>
    request(app)
      .post('/v1/verifications')
      .set({ Authorization: `Bearer ${r.dist.token}`, 'Idempotency-Key': key })
      .send(body);

  /** Makes the key `hours` old, as the service stored it (its write-path answer and its verification). */
  async function age(key: string, hours: number): Promise<void> {
    for (const [table, party] of [
      ['idempotency_keys', 'gln'],
      ['verification_idempotency', 'party'],
    ] as const)
      await r.world.issuer.db.query(
        `UPDATE ${table} SET created_at = now() - $3::integer * interval '1 hour'
         WHERE ${party} = $1::text AND key = $2::text`,
        [r.dist.gln, key, hours],
      );
  }

  async function stored(subject: string): Promise<string[]> {
    const { rows } = await r.world.issuer.db.query<{ id: string }>(
      `SELECT id FROM verifications WHERE party = $1::text AND subject = $2::text ORDER BY created_at, id`,
      [r.dist.gln, subject],
    );
    return rows.map((r) => r.id);
  }

  it('within 24 hours replays the same verification, also to a replica that missed the stored answer', async () => {
    const body = { subject: unit('I1'), purpose: 'receiving' };
    const first = await verify('idem-fresh', body).expect(201);
    await age('idem-fresh', 23);
    const again = await verify('idem-fresh', body, r.replicas[1]).expect(201);
    expect(again.body.id).toBe(first.body.id);
    // The write-path answer lost (a crash before it was stored): the verification's key still holds.
    await r.world.issuer.db.query(
      `DELETE FROM idempotency_keys WHERE gln = $1::text AND key = 'idem-fresh'`,
      [r.dist.gln],
    );
    const third = await verify('idem-fresh', body).expect(201);
    expect(third.body.id).toBe(first.body.id);
    const other = await verify('idem-fresh', { subject: unit('I1'), purpose: 'dispense' });
    expect(other.status).toBe(422);
    expect(other.body.type).toBe('urn:provenant:problem:idempotency-key-reused');
    expect(await stored(unit('I1'))).toEqual([first.body.id]);
  });

  it('after 24 hours starts a new verification with the same request, and replays that one', async () => {
    const body = { subject: unit('I2'), purpose: 'receiving' };
    const first = await verify('idem-expired', body).expect(201);
    await age('idem-expired', 25);
    const fresh = await verify('idem-expired', body).expect(201);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
    expect(fresh.body.id).not.toBe(first.body.id);
    const replayed = await verify('idem-expired', body, r.replicas[1]).expect(201);
    expect(replayed.body.id).toBe(fresh.body.id);
    // The old verification is kept for audit (append-only), beside the new one.
    expect((await stored(unit('I2'))).sort()).toEqual([first.body.id, fresh.body.id].sort());
  });

  it('after 24 hours takes another request under the same key (no 422)', async () => {
    const first = await verify('idem-other', { subject: unit('I3'), purpose: 'receiving' }).expect(
      201,
    );
    await age('idem-other', 25);
    const other = await verify('idem-other', { subject: unit('I4'), purpose: 'receiving' });
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(first.body.id);
    expect(other.body.subject).toBe(unit('I4'));
    expect(await stored(unit('I4'))).toEqual([other.body.id]);
  });

  it('given to two replicas at once after it expired stores one new verification', async () => {
    const body = { subject: unit('I5'), purpose: 'receiving' };
    const first = await verify('idem-race', body).expect(201);
    await age('idem-race', 25);
    r.meet.expect(2);
    const [a, b] = await Promise.all(r.replicas.map((app) => verify('idem-race', body, app)));
    expect([a!.status, b!.status]).toEqual([201, 201]);
    expect(b!.body.id).toBe(a!.body.id);
    expect(a!.body.id).not.toBe(first.body.id);
    expect((await stored(unit('I5'))).sort()).toEqual([first.body.id, a!.body.id].sort());
  });

  it('is pruned by the worker’s prune pass once expired; fresh keys and every verification stay', async () => {
    const body = { subject: unit('I6'), purpose: 'receiving' };
    const old = await verify('idem-prune-old', body).expect(201);
    await verify('idem-prune-new', { ...body, purpose: 'dispense' }).expect(201);
    await age('idem-prune-old', 30);
    const worker = new WebhookWorker({
      db: r.world.issuer.db,
      masterKey: r.world.issuer.config.masterKey,
      settings: webhookSettingsOf(r.world.issuer.config),
    });
    const pruned = await worker.prune();
    await worker.stop();
    expect(pruned.verificationIdempotencyKeys).toBeGreaterThanOrEqual(1);
    const { rows } = await r.world.issuer.db.query<{ key: string }>(
      `SELECT key FROM verification_idempotency WHERE party = $1::text AND key LIKE 'idem-prune-%'`,
      [r.dist.gln],
    );
    expect(rows.map((r) => r.key)).toEqual(['idem-prune-new']);
    expect(await stored(unit('I6'))).toHaveLength(2);
    expect(await stored(unit('I6'))).toContain(old.body.id);
    // Pruned, the key is free: a new verification.
    const again = await verify('idem-prune-old', body).expect(201);
    expect(again.body.id).not.toBe(old.body.id);
  });
});
