import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeVerifierKey, publicKeyFromSeed, toBase64Url } from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { loadVerifierConfig } from './config.js';

const key = (n: number) => publicKeyFromSeed(new Uint8Array(32).fill(n), nodeBackend);
const TRUST = {
  logKey: encodeVerifierKey('example.test/log', key(1)),
  authorityKey: toBase64Url(key(2)),
  witnesses: [],
  witnessQuorum: 0,
  maxCheckpointAgeSeconds: 3600,
  origin: 'example.test/log',
};
const SEED = Buffer.from(new Uint8Array(32).fill(5)).toString('base64');

describe('loadVerifierConfig', () => {
  let dir: string;
  const file = (name: string, value: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  };
  const env = (over: Record<string, string | undefined> = {}) => ({
    DATABASE_URL: 'postgres://verifier@db.example/provenant',
    PORT: '8081',
    PROVENANT_TRUST_FILE: file('trust.json', TRUST),
    PROVENANT_VERIFIER_KEY: SEED,
    ...over,
  });
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenant-verifier-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the trust file, the verifier key and the shared settings, and no master key', () => {
    const c = loadVerifierConfig(env({ PROVENANT_MAX_BACKDATE: '10d', LOG_LEVEL: 'warn' }));
    expect(c).toMatchObject({
      port: 8081,
      databaseUrl: 'postgres://verifier@db.example/provenant',
      origin: 'example.test/log',
      trust: { logKey: TRUST.logKey, authorityKey: TRUST.authorityKey, witnessQuorum: 0 },
      config: { logLevel: 'warn', maxBackdateMs: 10 * 86_400_000, adminTokenHash: null },
      metricsPort: null,
    });
    expect(c.verifierSeed).toEqual(new Uint8Array(32).fill(5));
    expect(JSON.stringify(Object.keys(c))).not.toMatch(/master/i);
  });

  it('takes a writable state database for a verifier on a replica (PROVENANT_VERIFIER_STATE_URL)', () => {
    expect(loadVerifierConfig(env()).stateUrl).toBeNull();
    const url = 'postgres://postgres@127.0.0.1:5432/primary';
    expect(loadVerifierConfig(env({ PROVENANT_VERIFIER_STATE_URL: url })).stateUrl).toBe(url);
    expect(() => loadVerifierConfig(env({ PROVENANT_VERIFIER_STATE_URL: 'mysql://x' }))).toThrow(
      /PROVENANT_VERIFIER_STATE_URL/,
    );
  });

  it('takes the origin from the log key when the trust file has none', () => {
    const { origin: _origin, ...noOrigin } = TRUST;
    const c = loadVerifierConfig(env({ PROVENANT_TRUST_FILE: file('no-origin.json', noOrigin) }));
    expect(c.origin).toBe('example.test/log');
  });

  it.each([
    ['PROVENANT_TRUST_FILE', { PROVENANT_TRUST_FILE: undefined }, /is required/],
    ['PROVENANT_VERIFIER_KEY', { PROVENANT_VERIFIER_KEY: '' }, /is required/],
    ['PORT', { PORT: undefined }, /is required/],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }, /postgres:\/\//],
    ['PROVENANT_VERIFIER_KEY', { PROVENANT_VERIFIER_KEY: 'c2hvcnQ=' }, /32 bytes/],
  ])('refuses a missing or bad %s, naming it', (variable, over, message) => {
    expect(() => loadVerifierConfig(env(over))).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        variable,
        message: expect.stringMatching(message),
      }),
    );
  });

  it.each([
    ['not JSON', '{', /is not JSON/],
    ['without an authority key', { logKey: TRUST.logKey }, /authorityKey must be/],
    [
      'with an origin that is not the log key name',
      { ...TRUST, origin: 'other/log' },
      /origin must equal/,
    ],
    ['with a quorum above its witnesses', { ...TRUST, witnessQuorum: 1 }, /witnessQuorum must be/],
  ])('refuses a trust file %s', (name, value, message) => {
    const path = file(`${name.replace(/\W+/g, '-')}.json`, value);
    expect(() => loadVerifierConfig(env({ PROVENANT_TRUST_FILE: path }))).toThrow(
      expect.objectContaining({
        variable: 'PROVENANT_TRUST_FILE',
        message: expect.stringMatching(message),
      }),
    );
  });
});
