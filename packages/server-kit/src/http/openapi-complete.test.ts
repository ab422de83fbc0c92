import { describe, expect, it } from '@jest/globals';
import {
  completeDocument,
  operationIdOf,
  PROBLEM_REF,
  stripRegexFlags,
} from './openapi-complete.js';

describe('stripRegexFlags', () => {
  it('drops the /flags suffix zod-to-openapi leaves from RegExp#toString()', () => {
    expect(stripRegexFlags('^[^\\p{Cc}]*$/u')).toBe('^[^\\p{Cc}]*$');
    expect(stripRegexFlags('^a$/giu')).toBe('^a$');
    expect(stripRegexFlags('^a\\\\/u')).toBe('^a\\\\');
  });

  it('keeps patterns without flags, and an escaped slash followed by letters', () => {
    expect(stripRegexFlags('^\\d{14}$')).toBe('^\\d{14}$');
    expect(stripRegexFlags('^a\\/u')).toBe('^a\\/u');
    expect(stripRegexFlags('^a/b$')).toBe('^a/b$');
  });
});

describe('operationIdOf', () => {
  it('names an operation by method and path, parameters as By<Name>', () => {
    expect(operationIdOf('get', '/v1/parties/{gln}/keys')).toBe('getPartiesByGlnKeys');
    expect(operationIdOf('get', '/healthz')).toBe('getHealthz');
    expect(operationIdOf('get', '/openapi.json')).toBe('getOpenapiJson');
    expect(operationIdOf('get', '/v1/chains/01/{gtin}/21/{serial}')).toBe(
      'getChains01ByGtin21BySerial',
    );
  });
});

describe('completeDocument', () => {
  const doc = () => ({
    paths: {
      '/healthz': { get: { responses: { 200: { description: 'ok' } } } },
      '/v1/things/{id}': {
        post: {
          security: [{ bearerAuth: [] }],
          parameters: [
            { in: 'path', name: 'id' },
            { in: 'header', name: 'Idempotency-Key' },
          ],
          requestBody: { content: {} },
          responses: {
            201: { description: 'made' },
            409: { description: 'taken', content: { 'application/json': { schema: {} } } },
          },
        },
      },
    },
    components: { schemas: { X: { type: 'string', pattern: '^x$/u' } } },
  });

  it('marks an operation registered without security as anonymous, with its own statuses and 401 (a token sent must be valid)', () => {
    const op = (completeDocument(doc()) as any).paths['/healthz'].get; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(op.security).toEqual([]);
    expect(op.operationId).toBe('getHealthz');
    expect(Object.keys(op.responses)).toEqual(['200', '401']);
  });

  it('adds the framework statuses of a secured, idempotent write with a path parameter', () => {
    const op = (completeDocument(doc()) as any).paths['/v1/things/{id}'].post; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(Object.keys(op.responses)).toEqual([
      '201',
      '400',
      '401',
      '403',
      '404',
      '409',
      '413',
      '415',
      '422',
      '429',
      '503',
    ]);
    // Every error is the Problem $ref, the route's own description kept.
    expect(op.responses['409']).toEqual({
      description: 'taken',
      content: { 'application/problem+json': { schema: { $ref: PROBLEM_REF } } },
    });
    expect(op.responses['429'].headers['Retry-After']).toBeDefined();
  });

  it('strips regex flags from every pattern', () => {
    expect((completeDocument(doc()) as any).components.schemas.X.pattern).toBe('^x$'); // eslint-disable-line @typescript-eslint/no-explicit-any
  });

  it('refuses two operations with one operationId', () => {
    const d = doc();
    (d.paths['/healthz'].get as Record<string, unknown>).operationId = 'postThingsById';
    expect(() => completeDocument(d)).toThrow(/operationId postThingsById/);
  });
});
