// EPCIS 2.0 documents and events as the capture tests send them (DESIGN §11).
export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** An EPCISDocument of `events`, with the CBV master-data prefix the ilmd fields use. */
export function epcisDocument(events: Json[]): Json {
  return {
    '@context': [
      'https://ref.gs1.org/standards/epcis/epcis-context.jsonld',
      { cbvmda: 'urn:epcglobal:cbv:mda:' },
    ],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: new Date().toISOString(),
    epcisBody: { eventList: events },
  };
}

/** Event times from `minutesBack` minutes ago, one second apart, so each record follows the one before. */
export function eventClock(minutesBack = 10): () => string {
  const base = Math.floor(Date.now() / 1000) * 1000 - minutesBack * 60_000;
  let tick = 0;
  return () => new Date(base + tick++ * 1000).toISOString();
}

/** A commissioning ObjectEvent at `gln`'s location: lot LOT7, expiry 2028-01-31; `extra` adds or overrides. */
export function commissioningEvent(
  epcs: string[],
  gln: string,
  eventTime: string,
  extra: Json = {},
): Json {
  return {
    type: 'ObjectEvent',
    eventTime,
    eventTimeZoneOffset: '+00:00',
    epcList: epcs,
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
    bizLocation: { id: `https://id.gs1.org/414/${gln}` },
    ilmd: { 'cbvmda:lotNumber': 'LOT7', 'cbvmda:itemExpirationDate': '2028-01-31' },
    ...extra,
  };
}
