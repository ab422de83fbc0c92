// epcis_events and epcis_capture_jobs on both drivers (STYLE rule 9).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  UniqueViolationError,
  createTestDatabase,
  existingEpcisEventIds,
  finishCaptureJob,
  getCaptureJob,
  getEpcisEvent,
  getEpcisEventsById,
  insertCaptureJob,
  insertEpcisEvents,
  insertParty,
  queryEpcisEvents,
  storageDrivers,
  type NewEpcisEvent,
  type TestDatabase,
} from './index.js';

const GLN = '0614141000005';
const OTHER = '0614141000012';
const UNIT = '01/09506000134352/21/A1';

function event(eventId: string, over: Partial<NewEpcisEvent> = {}): NewEpcisEvent {
  return {
    eventId,
    party: GLN,
    source: 'capture',
    captureId: null,
    eventType: 'ObjectEvent',
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
    bizLocation: `414/${GLN}`,
    eventTime: '2026-11-28T12:00:00.000Z',
    recordTime: '2026-11-28T12:00:01.000Z',
    epcs: [UNIT],
    parentId: null,
    subjects: [UNIT],
    recordIds: ['a'.repeat(64)],
    // Kept byte for byte: spacing and key order are the caller's.
    event: `{ "type":"ObjectEvent",  "eventID":"${eventId}" }`,
    ...over,
  };
}

describe.each(storageDrivers())('EPCIS storage on %s', (driver) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(driver);
    await insertParty(db, { gln: GLN, name: 'M', roles: ['manufacturer'], prefixes: ['0614141'] });
    await insertParty(db, { gln: OTHER, name: 'D', roles: ['distributor'], prefixes: [] });
  });
  afterAll(() => db.drop());

  it('stores an event exactly as captured and reads it back', async () => {
    const hashContext = {
      '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
    };
    await insertEpcisEvents(db, [event('urn:uuid:1', { hashContext })]);
    const got = await getEpcisEvent(db, GLN, 'urn:uuid:1');
    expect(got?.hashContext).toEqual(hashContext);
    expect(got?.event).toBe('{ "type":"ObjectEvent",  "eventID":"urn:uuid:1" }');
    expect(got?.epcs).toEqual([UNIT]);
    expect(got?.recordIds).toEqual(['a'.repeat(64)]);
    expect(got?.recordTime).toBe('2026-11-28T12:00:01.000Z');
  });

  it('refuses the same eventID twice for one party but not for another', async () => {
    await expect(insertEpcisEvents(db, [event('urn:uuid:1')])).rejects.toBeInstanceOf(
      UniqueViolationError,
    );
    await insertEpcisEvents(db, [event('urn:uuid:1', { party: OTHER, source: 'v1' })]);
    expect((await getEpcisEventsById(db, 'urn:uuid:1')).map((e) => e.party)).toEqual([GLN, OTHER]);
    // merge: the same event again gains the new record ids.
    await insertEpcisEvents(
      db,
      [event('urn:uuid:1', { party: OTHER, source: 'v1', recordIds: ['b'.repeat(64)] })],
      { merge: true },
    );
    expect((await getEpcisEvent(db, OTHER, 'urn:uuid:1'))?.recordIds).toEqual([
      'a'.repeat(64),
      'b'.repeat(64),
    ]);
    expect((await getEpcisEvent(db, OTHER, 'urn:uuid:1'))?.hashContext).toBeNull();
    expect(await existingEpcisEventIds(db, GLN, ['urn:uuid:1', 'urn:uuid:2'])).toEqual(
      new Set(['urn:uuid:1']),
    );
  });

  it('finds events by EPC, parent, any EPC and time, in capture order', async () => {
    await insertEpcisEvents(db, [
      event('urn:uuid:agg', {
        eventType: 'AggregationEvent',
        bizStep: 'packing',
        epcs: ['01/09506000134352/21/A2'],
        parentId: '00/106141412345678908',
        subjects: ['01/09506000134352/21/A2', '00/106141412345678908'],
        eventTime: '2026-11-29T12:00:00.000Z',
      }),
    ]);
    const ids = async (f: Parameters<typeof queryEpcisEvents>[1]) =>
      (await queryEpcisEvents(db, f)).map((e) => e.eventId);
    expect(await ids({ epcs: [UNIT], limit: 10 })).toEqual(['urn:uuid:1', 'urn:uuid:1']);
    expect(await ids({ parentIds: ['00/106141412345678908'], limit: 10 })).toEqual([
      'urn:uuid:agg',
    ]);
    expect(await ids({ anyEpcs: ['00/106141412345678908'], limit: 10 })).toEqual(['urn:uuid:agg']);
    expect(await ids({ epcs: ['00/106141412345678908'], limit: 10 })).toEqual([]);
    expect(await ids({ geEventTime: '2026-11-29T00:00:00Z', limit: 10 })).toEqual(['urn:uuid:agg']);
    const first = await queryEpcisEvents(db, { limit: 1 });
    expect(await ids({ afterN: first[0]!.n, bizSteps: ['commissioning'], limit: 10 })).toEqual([
      'urn:uuid:1',
    ]);
  });

  it('creates a running capture job and finishes it once', async () => {
    const job = await insertCaptureJob(db, {
      captureId: 'c1',
      party: GLN,
      captureErrorBehaviour: 'proceed',
      eventCount: 2,
    });
    expect(job).toMatchObject({ running: true, success: null, finishedAt: null, errors: [] });
    const errors = [{ eventIndex: 1, type: 'urn:provenant:problem:x', detail: 'bad' }];
    const done = await finishCaptureJob(db, 'c1', { success: false, errors });
    expect(done).toMatchObject({ running: false, success: false, errors });
    expect(done?.finishedAt).not.toBeNull();
    // A finished job stays as it finished.
    await finishCaptureJob(db, 'c1', { success: true, errors: [] });
    expect((await getCaptureJob(db, 'c1'))?.success).toBe(false);
    expect(await getCaptureJob(db, 'nope')).toBeNull();
  });
});
