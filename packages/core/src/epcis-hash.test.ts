// EPCIS 2.0 / CBV 2.0 event hash IDs against the reference generator's public
// vectors (testdata/vectors/epcis/event-hash, see its README): `.hashes` is
// the truth for every event; `.prehashes` is compared too, except the lines
// the README names as stale upstream.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { vectorPath } from '../../../tests/support/paths.js';
import {
  canonicalDigitalLink,
  canonicalTime,
  canonicalValue,
  epcisDocumentEvents,
  epcisEventHash,
  epcisEventPrehash,
} from './epcis/index.js';

const DIR = vectorPath('epcis', 'event-hash');
// testdata/vectors/README.md, epcis/event-hash: prehash lines stale upstream.
const STALE_PREHASHES: Readonly<Record<string, readonly number[]>> = {
  epcisDocWithAllGS1Keys: [0],
  epcisDocWithCustomSchemaInContext: [1],
  epcisDocWithDefaultSchemaInContext: [1],
};

function lines(file: string): string[] | undefined {
  try {
    return readFileSync(vectorPath('epcis', 'event-hash', file), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  } catch {
    return undefined;
  }
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.jsonld'))
  .map((f) => f.slice(0, -'.jsonld'.length))
  .sort();

describe('epcisEventHash on the reference vectors', () => {
  it('finds all 22 cases', () => {
    expect(cases).toHaveLength(22);
  });

  for (const name of cases) {
    const doc: unknown = JSON.parse(
      readFileSync(vectorPath('epcis', 'event-hash', `${name}.jsonld`), 'utf8'),
    );
    const { events, context } = epcisDocumentEvents(doc);
    const hashes = lines(`${name}.hashes`)!;
    const prehashes = lines(`${name}.prehashes`);

    it(`${name}: one expected hash per event`, () => {
      expect(events).toHaveLength(hashes.length);
    });

    events.forEach((event, i) => {
      it(`${name} event ${i}: hash ID matches`, () => {
        const stale = STALE_PREHASHES[name]?.includes(i) ?? false;
        const prehash = epcisEventPrehash(event, context);
        if (prehashes && !stale) {
          expect({ case: name, event: i, prehash }).toEqual({
            case: name,
            event: i,
            prehash: prehashes[i],
          });
        }
        expect({ case: name, event: i, hash: epcisEventHash(event, context) }).toEqual({
          case: name,
          event: i,
          hash: hashes[i],
        });
      });
    });
  }
});

describe('epcisEventHash', () => {
  const event = {
    type: 'ObjectEvent',
    eventTime: '2026-11-28T12:00:00.000+01:00',
    eventTimeZoneOffset: '+01:00',
    epcList: ['urn:epc:id:sgtin:9506000.013435.ABC'],
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
  };

  it('ignores eventID and recordTime, which the hash is meant to fill in', () => {
    const withId = { ...event, eventID: 'urn:uuid:1', recordTime: '2026-11-28T12:00:01Z' };
    expect(epcisEventHash(withId)).toBe(epcisEventHash(event));
  });

  it('is the same whatever the order of keys and list entries', () => {
    const shuffled = {
      disposition: 'active',
      bizStep: 'commissioning',
      action: 'ADD',
      epcList: [...event.epcList].reverse(),
      eventTimeZoneOffset: '+01:00',
      eventTime: '2026-11-28T11:00:00Z',
      type: 'ObjectEvent',
    };
    expect(epcisEventHash(shuffled)).toBe(epcisEventHash(event));
  });

  it('treats an EPC URN and its Digital Link alike', () => {
    const dl = { ...event, epcList: ['https://example.com/01/09506000134352/21/ABC'] };
    expect(epcisEventHash(dl)).toBe(epcisEventHash(event));
  });

  it('changes when any value changes', () => {
    expect(epcisEventHash({ ...event, disposition: 'in_transit' })).not.toBe(epcisEventHash(event));
  });

  it('sorts by code point as the reference (Python) does, not by UTF-16 unit', () => {
    const withExt = { ...event, 'ex:x': ['\u{1F600}', '\uFFFF'] };
    const prehash = epcisEventPrehash(withExt, { '@context': [{ ex: 'https://ex.org/' }] });
    expect(prehash.endsWith('{https://ex.org/}x=\uFFFF{https://ex.org/}x=\u{1F600}')).toBe(true);
  });

  it('throws a TypeError for something that is no event', () => {
    expect(() => epcisEventHash({ eventTime: 'x' })).toThrow(TypeError);
  });
});

describe('canonicalTime', () => {
  it('writes UTC at millisecond precision, rounding the fourth decimal half up', () => {
    expect(canonicalTime('2023-02-02T11:04:03.1415Z')).toBe('2023-02-02T11:04:03.142Z');
    expect(canonicalTime('2023-02-02T11:04:03.1414Z')).toBe('2023-02-02T11:04:03.141Z');
    expect(canonicalTime('2023-12-31T23:59:59.9996-01:00')).toBe('2024-01-01T01:00:00.000Z');
  });

  it('keeps text that is no dateTime', () => {
    expect(canonicalTime('yesterday')).toBe('yesterday');
    expect(canonicalTime('2023-02-30T10:00:00Z')).toBe('2023-02-30T10:00:00Z');
  });
});

describe('canonicalDigitalLink', () => {
  it('moves a Digital Link to id.gs1.org with numeric AIs and no query', () => {
    expect(
      canonicalDigitalLink('https://example.com/shop/gtin/9780345418913/ser/765tz?abc=1'),
    ).toBe('https://id.gs1.org/01/09780345418913/21/765tz');
  });

  it('drops the CPV, and the lot when a serial is there', () => {
    expect(canonicalDigitalLink('https://id.gs1.de/01/04012345999990/22/A1/10/L1/21/S1')).toBe(
      'https://id.gs1.org/01/04012345999990/21/S1',
    );
  });

  it('leaves URIs that are no Digital Link of a GS1 key (or not of its canonical characters)', () => {
    expect(canonicalDigitalLink('http://transaction.acme.com/po/12345678')).toBeUndefined();
    expect(canonicalDigitalLink('https://ref.gs1.org/cbv/BizStep-shipping')).toBeUndefined();
    expect(canonicalDigitalLink('https://id.gs1.org/01/04012345111118/21/98%22')).toBeUndefined();
  });
});

describe('canonicalValue', () => {
  it('writes numbers as the reference does (Python float formatting)', () => {
    expect(canonicalValue('452.0')).toBe('452');
    expect(canonicalValue('+0012.50')).toBe('12.5');
    expect(canonicalValue('0.00001')).toBe('1e-05');
    expect(canonicalValue('1_000')).toBe('1000');
    expect(canonicalValue('2019-10-21')).toBe('2019-10-21');
  });

  it('turns CBV URNs into web vocabulary URIs', () => {
    expect(canonicalValue('urn:epcglobal:cbv:bizstep:shipping')).toBe(
      'https://ref.gs1.org/cbv/BizStep-shipping',
    );
  });

  it('turns EPC URNs into canonical Digital Links', () => {
    expect(canonicalValue('urn:epc:id:sgtin:0614141.812345.6789')).toBe(
      'https://id.gs1.org/01/80614141123458/21/6789',
    );
  });
});
