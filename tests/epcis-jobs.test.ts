// EPCIS capture jobs (DESIGN §8, §11) against a real issuer and database
// (PGlite, or PostgreSQL when PROVENANT_TEST_DATABASE_URL is set):
// Idempotency-Key on POST /epcis/capture and /epcis/events (the replay
// carries the first Location), job progress counts, and the sweep of jobs a
// dead process left running.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { getCaptureJob, getLogSize, insertCaptureJob, touchCaptureJob } from '@provenant/store';
import { STALE_AFTER_MS, startJobSweeper, sweepInterruptedJobs } from '@provenant/issuer';
import {
  commissioningEvent,
  epcisDocument as document,
  eventClock,
  type Json,
} from './support/epcis.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { Api, withCheckDigit } from './support/verifier.js';

const MFR = withCheckDigit('061414100000');
const urn = (serial: string) => `urn:epc:id:sgtin:0614141.100001.${serial}`;

const nextTime = eventClock(10);

const commissioning = (epcs: string[]) => commissioningEvent(epcs, MFR, nextTime());

describe('EPCIS capture jobs', () => {
  let issuer: TestIssuer;
  let token: string;

  const post = (path: string, body: Json, key?: string) => {
    const r = request(issuer.app)
      .post(path)
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/ld+json');
    if (key) r.set('Idempotency-Key', key);
    return r.send(JSON.stringify(body));
  };

  async function finished(location: string): Promise<Json> {
    for (;;) {
      const job = await request(issuer.app)
        .get(location)
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      if (!job.body.running) return job.body as Json;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  beforeAll(async () => {
    issuer = await startTestIssuer();
    const api = new Api(issuer.app, issuer.adminToken);
    token = (await api.party(MFR, 'mfr', ['manufacturer'], ['0614141'])).token;
  }, 120_000);
  afterAll(async () => {
    await issuer?.stop();
  });

  describe('POST /epcis/events with Idempotency-Key', () => {
    it('replays the first answer with the same Location', async () => {
      const event = commissioning([urn('E1')]);
      const first = await post('/epcis/events', event, 'ev-key-1').expect(201);
      expect(first.headers['location']).toMatch(/^\/epcis\/events\//);
      const size = await getLogSize(issuer.db);
      const again = await post('/epcis/events', event, 'ev-key-1').expect(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers['location']).toBe(first.headers['location']);
      expect(again.body).toEqual(first.body);
      expect(await getLogSize(issuer.db)).toBe(size);
    });
  });

  describe('POST /epcis/capture with Idempotency-Key', () => {
    it('answers a retry of the same document with the first job, 202 and Location', async () => {
      const doc = document([commissioning([urn('K1')]), commissioning([urn('K2')])]);
      const first = await post('/epcis/capture', doc, 'cap-key-1').expect(202);
      const location = String(first.headers['location']);
      expect(location).toBe(`/epcis/capture/${first.body.captureID}`);
      const again = await post('/epcis/capture', doc, 'cap-key-1').expect(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers['location']).toBe(location);
      expect(again.body).toEqual(first.body);
      expect(await finished(location)).toMatchObject({ success: true, errors: [] });
      // Still the same job once it finished; no second job was created.
      const late = await post('/epcis/capture', doc, 'cap-key-1').expect(202);
      expect(late.headers['location']).toBe(location);
      const { rows } = await issuer.db.query(
        `SELECT count(*)::int AS n FROM epcis_capture_jobs WHERE event_count = 2`,
      );
      expect(rows[0]!['n']).toBe(1);
    });

    it('is 422 for the same key with another document, and creates no job', async () => {
      const count = async () =>
        Number(
          (await issuer.db.query(`SELECT count(*) AS n FROM epcis_capture_jobs`)).rows[0]!['n'],
        );
      await post('/epcis/capture', document([commissioning([urn('K3')])]), 'cap-key-2').expect(202);
      const before = await count();
      const res = await post(
        '/epcis/capture',
        document([commissioning([urn('K4')])]),
        'cap-key-2',
      ).expect(422);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.type).toBe('urn:provenant:problem:idempotency-key-reused');
      expect(await count()).toBe(before);
    });

    it('two concurrent requests with the same key make one job and one Location', async () => {
      const doc = document([commissioning([urn('K6')])]);
      const [a, b] = await Promise.all([
        post('/epcis/capture', doc, 'cap-key-3'),
        post('/epcis/capture', doc, 'cap-key-3'),
      ]);
      expect([a.status, b.status]).toEqual([202, 202]);
      expect(a.headers['location']).toBe(b.headers['location']);
      const { rows } = await issuer.db.query(
        `SELECT count(*)::int AS n FROM epcis_capture_jobs WHERE capture_id = ANY($1::text[])`,
        [[a.body.captureID, b.body.captureID]],
      );
      expect(rows[0]!['n']).toBe(1);
      expect(await finished(String(a.headers['location']))).toMatchObject({ success: true });
    });

    it('without a key, the same document makes a new job each time', async () => {
      const doc = document([commissioning([urn('K5')])]);
      const a = await post('/epcis/capture', doc).expect(202);
      const b = await post('/epcis/capture', doc).expect(202);
      expect(a.body.captureID).not.toBe(b.body.captureID);
    });
  });

  describe('progress', () => {
    it('a job counts the events it has gone through, up to eventCount', async () => {
      const n = 30;
      const doc = document(Array.from({ length: n }, (_, i) => commissioning([urn(`G${i}`)])));
      const res = await post('/epcis/capture', doc).expect(202);
      const seen: number[] = [];
      let job: Json;
      for (;;) {
        job = (
          await request(issuer.app)
            .get(String(res.headers['location']))
            .set('Authorization', `Bearer ${token}`)
            .expect(200)
        ).body as Json;
        expect(job['eventCount']).toBe(n);
        seen.push(job['processedCount'] as number);
        if (!job['running']) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(job).toMatchObject({ success: true, eventCount: n, processedCount: n });
      // Never goes back.
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
    });

    it('the stored count never goes back and never passes eventCount', async () => {
      const id = 'progress-store-1';
      await insertCaptureJob(issuer.db, {
        captureId: id,
        party: MFR,
        captureErrorBehaviour: 'rollback',
        eventCount: 10,
        runner: 'r1',
      });
      await touchCaptureJob(issuer.db, id, 6);
      expect((await getCaptureJob(issuer.db, id))!.processedCount).toBe(6);
      await touchCaptureJob(issuer.db, id, 2);
      expect((await getCaptureJob(issuer.db, id))!.processedCount).toBe(6);
      await touchCaptureJob(issuer.db, id, 99);
      expect((await getCaptureJob(issuer.db, id))!.processedCount).toBe(10);
    });
  });

  describe('jobs left running by a process that is gone', () => {
    const staleBy = `${Math.ceil(STALE_AFTER_MS / 1000) + 60} seconds`;
    const age = async (id: string, runner: string | null) =>
      issuer.db.query(
        `UPDATE epcis_capture_jobs SET running = true, finished_at = NULL, success = NULL,
           errors = '[]', runner = $2, updated_at = now() - $3::interval
         WHERE capture_id = $1`,
        [id, runner, staleBy],
      );
    const jobOf = async (location: string) =>
      (await request(issuer.app).get(location).set('Authorization', `Bearer ${token}`).expect(200))
        .body as Json;

    it('are finished as CaptureInterrupted, saying what was stored; live jobs are left', async () => {
      // A proceed job whose submission committed, then its process died before finishing it.
      const wrote = await post(
        '/epcis/capture',
        document([commissioning([urn('S1')]), commissioning([urn('S2')])]),
      )
        .set('GS1-Capture-Error-Behaviour', 'proceed')
        .expect(202);
      const wroteAt = String(wrote.headers['location']);
      await finished(wroteAt);
      await age(wrote.body.captureID, 'dead-runner');
      // A rollback job that died before writing (its one transaction never committed).
      const nothing = 'sweep-nothing-1';
      await insertCaptureJob(issuer.db, {
        captureId: nothing,
        party: MFR,
        captureErrorBehaviour: 'rollback',
        eventCount: 3,
      });
      await age(nothing, null);
      // Another replica's job, heartbeat fresh; and one of the sweeping process itself.
      for (const [id, runner] of [
        ['sweep-live-1', 'live-replica'],
        ['sweep-own-1', 'me'],
      ] as const)
        await insertCaptureJob(issuer.db, {
          captureId: id,
          party: MFR,
          captureErrorBehaviour: 'rollback',
          eventCount: 1,
          runner,
        });
      await age('sweep-own-1', 'me');

      const swept = await sweepInterruptedJobs(issuer.db, { runner: 'me' });
      expect(swept.map((j) => j.captureId).sort()).toEqual([nothing, wrote.body.captureID].sort());

      const a = await jobOf(wroteAt);
      expect(a).toMatchObject({ running: false, success: false });
      expect(a['finishedAt']).not.toBeNull();
      expect(a['errors']).toEqual([
        expect.objectContaining({
          eventIndex: 0,
          type: 'urn:provenant:problem:capture-interrupted',
          reasons: [expect.objectContaining({ code: 'CAPTURE_INTERRUPTED' })],
        }),
      ]);
      expect(a['errors'][0].detail).toMatch(/CaptureInterrupted: the service restarted/);
      expect(a['errors'][0].detail).toMatch(/2 event\(s\) of this capture were stored/);
      const b = await jobOf(`/epcis/capture/${nothing}`);
      expect(b).toMatchObject({ running: false, success: false });
      expect(b['errors'][0].detail).toMatch(/no event of this capture was stored/);
      expect((await getCaptureJob(issuer.db, 'sweep-live-1'))!.running).toBe(true);
      expect((await getCaptureJob(issuer.db, 'sweep-own-1'))!.running).toBe(true);
      // A second sweep finds nothing more.
      expect(await sweepInterruptedJobs(issuer.db, { runner: 'me' })).toEqual([]);
    });

    it('the sweeper a service start runs finishes a stale job at once', async () => {
      const id = 'sweep-start-1';
      await insertCaptureJob(issuer.db, {
        captureId: id,
        party: MFR,
        captureErrorBehaviour: 'proceed',
        eventCount: 4,
        runner: 'previous-process',
      });
      await age(id, 'previous-process');
      const sweeper = startJobSweeper(issuer.db);
      try {
        await sweeper.ready;
      } finally {
        sweeper.stop();
      }
      expect(await getCaptureJob(issuer.db, id)).toMatchObject({ running: false, success: false });
    });

    it('a running job keeps its heartbeat, so a sweep leaves it', async () => {
      const id = 'sweep-beat-1';
      await insertCaptureJob(issuer.db, {
        captureId: id,
        party: MFR,
        captureErrorBehaviour: 'rollback',
        eventCount: 1,
        runner: 'other',
      });
      await age(id, 'other');
      await touchCaptureJob(issuer.db, id);
      expect(await sweepInterruptedJobs(issuer.db, { runner: 'me' })).toEqual([]);
      expect((await getCaptureJob(issuer.db, id))!.running).toBe(true);
    });
  });
});
