// EPCIS events of records written through /v1 (DESIGN §11: "records written
// through /v1 are exported as events built by the table above, with their
// hash IDs"). Built before the log lock (submit time) and inserted by the
// sequencer in the batch transaction that writes the records, so the query
// side sees every record as an event the moment it is in the log.
import {
  epcisEventFromRecord,
  epcisEventHash,
  epcisEventIndex,
  type CustodyRecord,
} from '@provenant/core';
import type { NewEpcisEvent } from '@provenant/store';

/** An epcis_events row before its record time (the batch's receipt time) is known. */
export type PendingEpcisEvent = Omit<NewEpcisEvent, 'recordTime'>;

/**
 * The event row a record stands for, or null when the §11 table gives it
 * none (a unit's pack/unpack: its container's event states it; reactivate,
 * quarantine, release). The stored text is the JSON the hash is computed
 * over, so recomputing epcisEventHash over the parsed text gives the eventID.
 */
export function v1EventOf(id: string, record: CustodyRecord): PendingEpcisEvent | null {
  const event = epcisEventFromRecord(record);
  if (event === null) return null;
  const index = epcisEventIndex(event);
  return {
    eventId: epcisEventHash(event),
    party: record.actor,
    source: 'v1',
    captureId: null,
    ...index,
    recordIds: [id],
    event: JSON.stringify(event),
  };
}

/**
 * The events of a submission's records, by record id. A unit's pack or
 * unpack has no event of its own: its id joins the record ids of its
 * container's AggregationEvent when that is in the same submission (the
 * custodial routes send all N+1 records together), so the event names every
 * record it stands for.
 */
export function v1EventsOf(
  records: readonly { id: string; record: CustodyRecord }[],
): Map<string, PendingEpcisEvent> {
  const out = new Map<string, PendingEpcisEvent>();
  const containers = new Map<string, PendingEpcisEvent>();
  const units: { id: string; parent: string; type: string }[] = [];
  for (const { id, record } of records) {
    const ev = v1EventOf(id, record);
    if (ev) {
      out.set(id, ev);
      if (record.type === 'pack' || record.type === 'unpack')
        containers.set(`${record.type} ${record.subject}`, ev);
    } else if (record.type === 'pack' || record.type === 'unpack') {
      const parent = (record.data as { parent?: unknown }).parent;
      if (typeof parent === 'string') units.push({ id, parent, type: record.type });
    }
  }
  for (const u of units) {
    const ev = containers.get(`${u.type} ${u.parent}`);
    if (ev) ev.recordIds = [...ev.recordIds, u.id];
  }
  return out;
}

/**
 * Rows ready to insert with `merge`: one per (party, eventID), record ids of
 * identical events joined (two records of one subject may build the same event).
 */
export function v1EventRows(
  pending: readonly PendingEpcisEvent[],
  recordTime: string,
): NewEpcisEvent[] {
  const byKey = new Map<string, NewEpcisEvent>();
  for (const p of pending) {
    const key = `${p.party}\u0000${p.eventId}`;
    const seen = byKey.get(key);
    if (seen) seen.recordIds = [...seen.recordIds, ...p.recordIds];
    else byKey.set(key, { ...p, recordTime });
  }
  return [...byKey.values()];
}
