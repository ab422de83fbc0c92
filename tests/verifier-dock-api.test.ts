// What the dock page needs of the API (issue 13): GET /v1/me (sign in with the
// token alone) and short case numbers (Q-YY-NNNNNN) on quarantine and reject
// verdicts, stored with the case and listed by GET /v1/cases.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { unitSubject } from '@provenant/core';
import { ProvenantClient, ProvenantError } from '@provenant/sdk';
import {
  Api,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';

const GTIN = withCheckDigit('1061414100031');
const unit = (serial: string) => unitSubject(GTIN, serial);
const CASE_NUMBER = /^Q-\d{2}-\d{6,7}$/;

describe('the API behind the dock page', () => {
  let world: TestWorld;
  let api: Api;
  let mfr: Party;
  let pharm: Party;

  beforeAll(async () => {
    world = await startTestWorld();
    api = new Api(world.app, world.issuer.adminToken);
    mfr = await api.party(
      withCheckDigit('061414100300'),
      'Acme Pharma',
      ['manufacturer'],
      ['0614141'],
    );
    pharm = await api.party(withCheckDigit('061414100302'), 'St. Mary Pharmacy', ['dispenser']);
    await api.commission(mfr, GTIN, ['M001']);
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  describe('GET /v1/me', () => {
    it('names the party and scopes of any valid token', async () => {
      const res = await api.get('/v1/me', pharm.token).expect(200);
      expect(res.body).toEqual({
        party: { gln: pharm.gln, name: 'St. Mary Pharmacy', roles: ['dispenser'] },
        scopes: ['sign', 'verify'],
      });
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('answers party null for the admin token', async () => {
      const res = await api.get('/v1/me', world.issuer.adminToken).expect(200);
      expect(res.body.party).toBeNull();
      expect(res.body.scopes).toContain('admin');
    });

    it('is 401 problem+json without a token or with an unknown one', async () => {
      const none = await request(world.app).get('/v1/me').expect(401);
      expect(none.headers['content-type']).toContain('application/problem+json');
      await api.get('/v1/me', 'not-a-real-token-0000000000000000').expect(401);
    });

    it('is what the SDK client’s me() and getCase() read (as the dock page does)', async () => {
      const server = createServer(world.app);
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      try {
        const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const me = await new ProvenantClient({ baseUrl, token: pharm.token }).me();
        expect(me.party).toEqual({
          gln: pharm.gln,
          name: 'St. Mary Pharmacy',
          roles: ['dispenser'],
        });
        const denied = await new ProvenantClient({ baseUrl, token: 'nope-0000000000000000' })
          .me()
          .catch((e: unknown) => e);
        expect(denied).toBeInstanceOf(ProvenantError);
        expect((denied as ProvenantError).status).toBe(401);
        const v = await new ProvenantClient({ baseUrl, token: pharm.token }).verify({
          subject: unit('SDK404'),
          purpose: 'receiving',
        });
        const c = await new ProvenantClient({ baseUrl, token: pharm.token }).getCase(v.case!.id);
        expect(c.caseNumber).toBe(v.caseNumber);
      } finally {
        server.closeAllConnections();
        await new Promise((ok) => server.close(ok));
      }
    });

    it('is documented in /openapi.json', async () => {
      const doc = await request(world.app).get('/openapi.json').expect(200);
      expect(doc.body.paths['/v1/me']?.get).toBeDefined();
    });
  });

  describe('case numbers', () => {
    it('gives every case opened at receiving a short unique number, in the answer and the case list', async () => {
      const numbers: string[] = [];
      for (const serial of ['NOPE1', 'NOPE2', 'M001']) {
        const res = await api
          .post('/v1/verifications', pharm.token, { subject: unit(serial), purpose: 'receiving' })
          .expect(201);
        expect(res.body.verdict).not.toBe('accept');
        expect(res.body.case).toMatchObject({ status: 'open' });
        expect(res.body.caseNumber).toMatch(CASE_NUMBER);
        expect(res.body.caseNumber.length).toBeLessThanOrEqual(12);
        numbers.push(res.body.caseNumber);
        // The stored verification carries it too.
        const stored = await api.get(`/v1/verifications/${res.body.id}`, pharm.token).expect(200);
        expect(stored.body.caseNumber).toBe(res.body.caseNumber);
      }
      expect(new Set(numbers).size).toBe(3);
      const year = new Date().toISOString().slice(2, 4);
      expect(numbers.every((n) => n.startsWith(`Q-${year}-`))).toBe(true);
      const list = await api.get('/v1/cases', pharm.token).expect(200);
      const listed = list.body.cases.map((c: { caseNumber: string }) => c.caseNumber);
      expect(listed.slice(-3)).toEqual(numbers);
      const last = list.body.cases[list.body.cases.length - 1];
      const one = await api.get(`/v1/cases/${last.id}`, pharm.token).expect(200);
      expect(one.body.caseNumber).toBe(numbers[2]);
    });

    it('opens no case, and no number, for another purpose', async () => {
      const res = await api
        .post('/v1/verifications', pharm.token, { subject: unit('NOPE3'), purpose: 'dispense' })
        .expect(201);
      expect(res.body.caseNumber).toBeUndefined();
    });

    it('keeps numbers unique in the database, at most 12 characters', async () => {
      const { rows } = await world.issuer.db.query(
        `SELECT provenant_case_number('2026-01-01T00:00:00Z'::timestamptz) AS n`,
      );
      expect(rows[0]!.n).toMatch(/^Q-26-\d{6}$/);
      await expect(
        world.issuer.db.query(`UPDATE cases SET case_number = 'Q-26-' || repeat('9', 8)`),
      ).rejects.toThrow();
    });
  });
});
