import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { parseSignedNote } from '@provenant/core';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { allowingUndeclaredPath } from './support/contract.js';

describe('the composed issuer', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await startTestIssuer();
  });
  afterAll(async () => {
    await issuer?.stop();
  });

  it('serves health, readiness, the log key and a signed empty checkpoint', async () => {
    await request(issuer.app).get('/healthz').expect(200);
    await request(issuer.app).get('/readyz').expect(200);
    const log = await request(issuer.app).get('/v1/log').expect(200);
    expect(log.body.origin).toBe('test.provenant/log');
    // The registry authority's key is published so a dock can pin it (trust export).
    expect(log.body.authorityKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cp = await request(issuer.app).get('/v1/log/checkpoint').expect(200);
    expect(cp.headers['content-type']).toMatch(/^text\/plain/);
    expect(parseSignedNote(cp.text).text.split('\n')[1]).toBe('0');
  });

  it('answers unknown routes with problem+json', async () => {
    // No operation declares this path: the contract check is told so.
    const res = await allowingUndeclaredPath(/^\/v1\/nothing-here$/, () =>
      request(issuer.app).get('/v1/nothing-here').expect(404),
    );
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe('urn:provenant:problem:not-found');
  });
});
