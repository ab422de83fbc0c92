import { describe, expect, it } from '@jest/globals';
import { toBase64Url } from '@provenant/core';
import { loadConfig } from './config.js';
import { verifierHandoff } from './handoff.js';
import { deriveLogKeys, deriveSeed, deriveServiceKey } from './log/keys.js';

const MASTER = Buffer.from(new Uint8Array(32).fill(1)).toString('base64');
const keysOf = (masterKey: Uint8Array, origin: string) => ({
  logKeys: deriveLogKeys(masterKey, origin),
  authorityPublicKey: deriveServiceKey(masterKey, 'authority').publicKey,
});

describe('what the issuer hands an embedded verifier', () => {
  it('is public keys, the verifier seed derived as before, and the settings; never the master key', () => {
    const config = loadConfig({
      PROVENANT_MASTER_KEY: MASTER,
      DATABASE_URL: 'postgres://x@y/z',
      PROVENANT_MAX_BACKDATE: '5d',
    });
    const keys = keysOf(config.masterKey, config.logOrigin);
    const h = verifierHandoff(config, keys);
    expect(h.trust).toEqual({
      logKey: keys.logKeys.vkey,
      authorityKey: toBase64Url(keys.authorityPublicKey),
    });
    expect(h.origin).toBe(config.logOrigin);
    expect(h.verifierSeed).toEqual(deriveSeed(config.masterKey, 'verifier'));
    expect(h.config).toEqual({
      bodyLimit: config.bodyLimit,
      adminTokenHash: null,
      logLevel: config.logLevel,
      rateLimit: config.rateLimit,
      maxBackdateMs: 5 * 86_400_000,
    });
    // Nothing in it is the master key or a seed that signs as the log or the authority.
    const secrets = [
      config.masterKey,
      keys.logKeys.seed,
      deriveSeed(config.masterKey, 'authority'),
    ];
    const values = [h.verifierSeed, ...Object.values(h.config), ...Object.values(h.trust)];
    for (const s of secrets) for (const v of values) expect(v).not.toEqual(s);
    expect(Object.keys(h.config)).not.toContain('masterKey');
  });

  it('uses PROVENANT_VERIFIER_KEY when it is set', () => {
    const seed = new Uint8Array(32).fill(4);
    const config = loadConfig({
      PROVENANT_MASTER_KEY: MASTER,
      DATABASE_URL: 'postgres://x@y/z',
      PROVENANT_VERIFIER_KEY: Buffer.from(seed).toString('base64'),
    });
    expect(
      verifierHandoff(config, keysOf(config.masterKey, config.logOrigin)).verifierSeed,
    ).toEqual(seed);
  });

  it('refuses a PROVENANT_VERIFIER_KEY that is not 32 bytes, naming it', () => {
    expect(() =>
      loadConfig({
        PROVENANT_MASTER_KEY: MASTER,
        DATABASE_URL: 'postgres://x@y/z',
        PROVENANT_VERIFIER_KEY: 'c2hvcnQ=',
      }),
    ).toThrow(/PROVENANT_VERIFIER_KEY: must be standard base64 of exactly 32 bytes/);
  });
});
