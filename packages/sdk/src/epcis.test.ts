import { describe, expect, it } from '@jest/globals';
import { ProvenantClient, type FetchLike } from './client.js';
import { ProvenantError } from './errors.js';

function queryDoc(ids: string[]) {
  return {
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISQueryDocument',
    schemaVersion: '2.0',
    creationDate: '2026-12-01T00:00:00.000Z',
    'provenant:records': Object.fromEntries(ids.map((id) => [id, [`r-${id}`]])),
    epcisBody: {
      queryResults: {
        queryName: 'SimpleEventQuery',
        resultsBody: { eventList: ids.map((eventID) => ({ type: 'ObjectEvent', eventID })) },
      },
    },
  };
}

/** A server of two pages and one capture job, recording what it was asked. */
function fakeServer() {
  const asked: { url: string; headers: Record<string, string> }[] = [];
  const fetch: FetchLike = async (url, init) => {
    const headers = init.headers as Record<string, string>;
    asked.push({ url, headers });
    const u = new URL(url);
    const json = (status: number, body: unknown, extra: Record<string, string> = {}) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json', ...extra },
      });
    if (u.pathname === '/epcis/events' && !u.searchParams.has('nextPageToken')) {
      if (u.searchParams.get('EQ_action') === 'MOVE') {
        return new Response(
          JSON.stringify({
            type: 'urn:provenant:problem:query-parameter',
            title: 'EPCIS QueryParameterException',
            status: 400,
            detail: 'EQ_action: values are ADD, OBSERVE, DELETE.',
            errors: [{ path: 'query.EQ_action', rule: 'enum', message: 'ADD, OBSERVE, DELETE' }],
          }),
          { status: 400, headers: { 'content-type': 'application/problem+json' } },
        );
      }
      return json(200, queryDoc(['e1', 'e2']), {
        link: `</epcis/events?MATCH_epc=x&nextPageToken=T2>; rel="next"`,
      });
    }
    if (u.pathname === '/epcis/events') return json(200, queryDoc(['e3']));
    if (u.pathname === '/epcis/capture' && init.method === 'POST') {
      return new Response(null, { status: 202, headers: { location: '/epcis/capture/job%201' } });
    }
    if (u.pathname === '/epcis/capture/job%201') {
      return json(200, {
        captureID: 'job 1',
        createdAt: '2026-12-01T00:00:00.000Z',
        finishedAt: '2026-12-01T00:00:01.000Z',
        running: false,
        success: false,
        captureErrorBehaviour: 'proceed',
        errors: [{ eventIndex: 1, type: 'urn:provenant:problem:actor-mismatch', detail: 'no' }],
      });
    }
    return json(404, { type: 'urn:provenant:problem:not-found', title: 'Not Found', status: 404 });
  };
  return { asked, client: new ProvenantClient({ baseUrl: 'http://x.test', token: 't', fetch }) };
}

describe('client.epcis', () => {
  it('follows the Link header through every page, with the records of each event', async () => {
    const { client, asked } = fakeServer();
    const seen = [];
    for await (const e of client.epcis.events(
      { MATCH_epc: ['a', 'b'], perPage: 2 },
      { epcFormat: 'Always_EPC_URN' },
    )) {
      seen.push([e.event.eventID, e.records]);
    }
    expect(seen).toEqual([
      ['e1', ['r-e1']],
      ['e2', ['r-e2']],
      ['e3', ['r-e3']],
    ]);
    expect(new URL(asked[0]!.url).searchParams.get('MATCH_epc')).toBe('a|b');
    expect(new URL(asked[1]!.url).searchParams.get('nextPageToken')).toBe('T2');
    expect(asked.every((a) => a.headers['GS1-EPC-Format'] === 'Always_EPC_URN')).toBe(true);
  });

  it('captures a document: the job named by Location, polled until it ends', async () => {
    const { client, asked } = fakeServer();
    const started = await client.epcis.capture(
      { type: 'EPCISDocument' },
      { errorBehaviour: 'proceed' },
    );
    expect(started.captureID).toBe('job 1');
    expect(asked[0]!.headers['GS1-Capture-Error-Behaviour']).toBe('proceed');
    expect(asked[0]!.headers['Content-Type']).toBe('application/ld+json');
    const job = await client.epcis.waitForJob(started.captureID, { intervalMs: 1 });
    expect(job).toMatchObject({ running: false, success: false });
    expect(job.errors[0]!.eventIndex).toBe(1);
  });

  it('throws the server problem naming the refused parameter', async () => {
    const { client } = fakeServer();
    const err = await client.epcis.page({ EQ_action: 'MOVE' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvenantError);
    expect((err as ProvenantError).errors?.[0]?.path).toBe('query.EQ_action');
  });
});
