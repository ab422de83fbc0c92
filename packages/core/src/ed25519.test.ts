import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import * as ed from '@noble/ed25519';
import { createHash, verify as nodeCryptoVerify, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fromHex, toHex, utf8 } from './bytes.js';
import {
  checkPointEncodings,
  Ed25519Error,
  generateKeyPair,
  keyId,
  nobleBackend,
  publicKeyFromSeed,
  sign,
  verify,
  type Ed25519Backend,
} from './ed25519.js';
import { nodeBackend } from './node/ed25519-node.js';
import { vectorPath } from '../../../tests/support/paths.js';

const VECTORS = vectorPath('ed25519');
const BACKENDS: Ed25519Backend[] = [nobleBackend, nodeBackend];

function hex(h: string): Uint8Array {
  const b = fromHex(h);
  if (b === null) throw new Error(`bad hex in vector: ${h}`);
  return b;
}

/** The verdict of each backend through the public, policy-applying verify. */
function verdicts(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): Record<string, boolean> {
  return Object.fromEntries(BACKENDS.map((b) => [b.name, verify(sig, msg, pk, b)]));
}

function expectBoth(expected: boolean): Record<string, boolean> {
  return Object.fromEntries(BACKENDS.map((b) => [b.name, expected]));
}

/** OpenSSL's own verdict, with no pre-check: what the policy is defined against. */
function opensslAccepts(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pk).toString('base64url') },
    format: 'jwk',
  });
  return nodeCryptoVerify(null, msg, key, sig);
}

// ---------------------------------------------------------------------------
// Wycheproof

interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
const wycheproof = JSON.parse(readFileSync(path.join(VECTORS, 'ed25519_test.json'), 'utf8')) as {
  numberOfTests: number;
  testGroups: { publicKey: { pk: string }; tests: WycheproofTest[] }[];
};
const wycheproofCases = wycheproof.testGroups.flatMap((g) =>
  g.tests.map((t) => ({ ...t, pk: g.publicKey.pk, flagList: t.flags.join(',') || '-' })),
);

// Wycheproof 'valid' vectors that the strict policy rejects. Checked: there are
// none (every valid vector has canonical, full-order A and R), so the set is empty.
const WYCHEPROOF_POLICY_OVERRIDES = new Set<number>();

describe('Ed25519 on the Wycheproof vectors', () => {
  it('covers all 151 tests', () => {
    expect(wycheproofCases).toHaveLength(wycheproof.numberOfTests);
    expect(wycheproof.numberOfTests).toBe(151);
    expect(wycheproofCases.filter((t) => t.result === 'valid')).toHaveLength(88);
  });

  it.each(wycheproofCases)(
    'tcId $tcId ($comment; flags $flagList) gives result $result on both backends',
    (t) => {
      const expected = t.result === 'valid' && !WYCHEPROOF_POLICY_OVERRIDES.has(t.tcId);
      expect(verdicts(hex(t.sig), hex(t.msg), hex(t.pk))).toEqual(expectBoth(expected));
    },
  );
});

// ---------------------------------------------------------------------------
// sign.input (RFC 8032 §7.1 TEST 1, 2, 3, 1024 and the rest of DJB's file)

const signLines = readFileSync(path.join(VECTORS, 'sign.input'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map((l, i) => {
    const [sk, pk, msg, sm] = l.split(':') as [string, string, string, string];
    return {
      line: i + 1,
      seed: hex(sk.slice(0, 64)),
      pk: hex(pk),
      msg: hex(msg),
      sig: hex(sm.slice(0, 128)),
    };
  });

describe('Ed25519 on sign.input', () => {
  it('has all 1024 lines', () => {
    expect(signLines).toHaveLength(1024);
  });

  it.each(signLines)(
    'line $line: derives the key, signs deterministically, verifies, and rejects a flipped bit on both backends',
    ({ line, seed, pk, msg, sig }) => {
      for (const b of BACKENDS) {
        expect([b.name, toHex(publicKeyFromSeed(seed, b))]).toEqual([b.name, toHex(pk)]);
        expect([b.name, toHex(sign(msg, seed, b))]).toEqual([b.name, toHex(sig)]);
      }
      expect(verdicts(sig, msg, pk)).toEqual(expectBoth(true));
      const badSig = sig.slice();
      badSig[line % 64]! ^= 1 << (line % 8);
      expect(verdicts(badSig, msg, pk)).toEqual(expectBoth(false));
      if (msg.length > 0) {
        const badMsg = msg.slice();
        badMsg[line % msg.length]! ^= 0x80;
        expect(verdicts(sig, badMsg, pk)).toEqual(expectBoth(false));
      }
    },
  );
});

// ---------------------------------------------------------------------------
// C2SP CCTV ed25519vectors.json: the definition of the policy (DESIGN §4)

interface CctvVector {
  number: number;
  key: string;
  sig: string;
  msg: string; // UTF-8 text, not hex
  flags: string[] | null;
}
const cctv = JSON.parse(
  readFileSync(path.join(VECTORS, 'ed25519vectors.json'), 'utf8'),
) as CctvVector[];
const POLICY_FLAGS = ['low_order_A', 'low_order_R', 'non_canonical_A', 'non_canonical_R'];
const cctvCases = cctv.map((v) => {
  const flags = v.flags ?? [];
  const sig = hex(v.sig);
  const msg = utf8(v.msg);
  const pk = hex(v.key);
  const openssl = opensslAccepts(sig, msg, pk);
  const policy = openssl && !flags.some((f) => POLICY_FLAGS.includes(f));
  return { ...v, sig, msgBytes: msg, pk, openssl, policy, flagList: flags.join(',') || '-' };
});

describe('Ed25519 on the CCTV edge-case vectors', () => {
  it('pins the facts: OpenSSL accepts 208 of 914, the strict policy 43', () => {
    expect(cctvCases).toHaveLength(914);
    expect(cctvCases.filter((c) => c.openssl)).toHaveLength(208);
    expect(cctvCases.filter((c) => c.policy)).toHaveLength(43);
  });

  it.each(cctvCases)(
    'vector $number (flags $flagList) is accepted exactly when OpenSSL accepts it and no policy flag is set',
    (c) => {
      expect(verdicts(c.sig, c.msgBytes, c.pk)).toEqual(expectBoth(c.policy));
      // The pre-check alone removes exactly the flagged vectors that OpenSSL would accept.
      if (c.openssl) expect(checkPointEncodings(c.sig, c.pk)).toBe(c.policy);
    },
  );

  it('needs the cofactorless equation: noble with zip215:false is cofactored and accepts more', () => {
    const cofactoredOnly = cctvCases.filter(
      (c) =>
        !c.openssl &&
        checkPointEncodings(c.sig, c.pk) &&
        ed.verify(c.sig, c.msgBytes, c.pk, { zip215: false }),
    );
    // These are the low_order_residue cases; the policy rejects them on both backends.
    expect(cofactoredOnly.length).toBeGreaterThan(0);
    for (const c of cofactoredOnly) expect(c.flags).toContain('low_order_residue');
  });
});

// ---------------------------------------------------------------------------

describe('the pre-check', () => {
  const L = (1n << 252n) + 27742317777372353535851937790883648493n;
  const le32 = (n: bigint): Uint8Array => {
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
    return out;
  };
  const { publicKey } = generateKeyPair();
  const goodR = sign(utf8('x'), new Uint8Array(32).fill(7)).slice(0, 32);
  const sigWith = (r: Uint8Array, s: bigint): Uint8Array => {
    const out = new Uint8Array(64);
    out.set(r, 0);
    out.set(le32(s), 32);
    return out;
  };
  const P = (1n << 255n) - 19n;

  it('rejects S = L and above, and accepts S = L - 1', () => {
    expect(checkPointEncodings(sigWith(goodR, L - 1n), publicKey)).toBe(true);
    expect(checkPointEncodings(sigWith(goodR, L), publicKey)).toBe(false);
    expect(checkPointEncodings(sigWith(goodR, L + 1n), publicKey)).toBe(false);
    expect(checkPointEncodings(sigWith(goodR, (1n << 256n) - 1n), publicKey)).toBe(false);
    expect(checkPointEncodings(sigWith(goodR, 0n), publicKey)).toBe(true);
  });

  it('rejects every y >= p and the x = 0 encodings with the sign bit set', () => {
    for (let y = P; y < 1n << 255n; y++) {
      for (const sign of [0n, 1n << 255n]) {
        const enc = le32(y | sign);
        expect([toHex(enc), checkPointEncodings(sigWith(goodR, 1n), enc)]).toEqual([
          toHex(enc),
          false,
        ]);
        expect([toHex(enc), checkPointEncodings(sigWith(enc, 1n), publicKey)]).toEqual([
          toHex(enc),
          false,
        ]);
      }
    }
    for (const y of [1n, P - 1n]) {
      const enc = le32(y | (1n << 255n));
      expect(checkPointEncodings(sigWith(goodR, 1n), enc)).toBe(false);
      expect(checkPointEncodings(sigWith(enc, 1n), publicKey)).toBe(false);
    }
    // y = p - 2 is canonical (whether or not it is on the curve is the backend's business).
    expect(checkPointEncodings(sigWith(le32(P - 2n), 1n), publicKey)).toBe(true);
  });

  it('rejects exactly the 8 small-order points, listed as the multiples of an order-8 point', () => {
    // [L]p keeps only the torsion component of p; the first one of order 8 generates E[8].
    let t8: ed.Point | undefined;
    for (let y = 2n; t8 === undefined; y++) {
      const p = tryPoint(le32(y));
      if (p === undefined) continue;
      const q = p
        .multiply((L - 1n) / 2n, false)
        .double()
        .add(p);
      if (!q.multiply(4n, false).is0()) t8 = q;
    }
    const torsion = new Set<string>();
    let acc = ed.Point.ZERO;
    for (let i = 0; i < 8; i++) {
      torsion.add(acc.toHex());
      acc = acc.add(t8);
    }
    expect(torsion.size).toBe(8);
    for (const encHex of torsion) {
      const enc = hex(encHex);
      expect([encHex, checkPointEncodings(sigWith(goodR, 1n), enc)]).toEqual([encHex, false]);
      expect([encHex, checkPointEncodings(sigWith(enc, 1n), publicKey)]).toEqual([encHex, false]);
    }
  });

  it('rejects wrong lengths and non-byte inputs without throwing', () => {
    const sig = sign(utf8('m'), new Uint8Array(32));
    const pk = publicKeyFromSeed(new Uint8Array(32));
    expect(checkPointEncodings(sig, pk)).toBe(true);
    expect(checkPointEncodings(sig.subarray(0, 63), pk)).toBe(false);
    expect(checkPointEncodings(sig, pk.subarray(1))).toBe(false);
    expect(checkPointEncodings('x' as unknown as Uint8Array, pk)).toBe(false);
    for (const b of BACKENDS) {
      expect(verify(sig, utf8('m'), pk, b)).toBe(true);
      expect(verify(new Uint8Array([...sig, 0]), utf8('m'), pk, b)).toBe(false);
      expect(verify(sig, utf8('m'), new Uint8Array([...pk, 0]), b)).toBe(false);
      expect(verify(sig, 'm' as unknown as Uint8Array, pk, b)).toBe(false);
      expect(verify(null as unknown as Uint8Array, utf8('m'), pk, b)).toBe(false);
    }
  });
});

function tryPoint(b: Uint8Array): ed.Point | undefined {
  try {
    return ed.Point.fromBytes(b);
  } catch {
    return undefined;
  }
}

describe('the two backends', () => {
  it('generate key pairs that sign and verify across backends', () => {
    for (const gen of BACKENDS) {
      const { seed, publicKey } = generateKeyPair(gen);
      expect(seed).toHaveLength(32);
      expect(seed).toBeInstanceOf(Uint8Array);
      for (const b of BACKENDS) {
        expect(toHex(publicKeyFromSeed(seed, b))).toBe(toHex(publicKey));
        const sig = sign(utf8('hello'), seed, b);
        expect(verdicts(sig, utf8('hello'), publicKey)).toEqual(expectBoth(true));
      }
    }
  });

  it('agree on arbitrary signatures, keys and messages', () => {
    const { seed, publicKey } = generateKeyPair();
    const good = sign(utf8('m'), seed);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat(63),
        fc.nat(255),
        (sig, pk, at, xor) => {
          expect(verify(sig, utf8('m'), pk, nodeBackend)).toBe(
            verify(sig, utf8('m'), pk, nobleBackend),
          );
          const mutated = good.slice();
          mutated[at]! ^= xor;
          const v = verdicts(mutated, utf8('m'), publicKey);
          expect(v).toEqual(expectBoth(xor === 0));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuse a seed of the wrong length with INVALID_SEED', () => {
    for (const b of BACKENDS) {
      expect(() => sign(utf8('m'), new Uint8Array(31), b)).toThrow(Ed25519Error);
      expect(() => publicKeyFromSeed(new Uint8Array(64), b)).toThrow(
        expect.objectContaining({ code: 'INVALID_SEED' }),
      );
    }
  });
});

describe('keyId', () => {
  it('is the first 32 hex characters of SHA-256 over the raw key (DESIGN §4)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (pk) => {
        expect(keyId(pk)).toBe(createHash('sha256').update(pk).digest('hex').slice(0, 32));
      }),
    );
    expect(keyId(hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'))).toMatch(
      /^[0-9a-f]{32}$/,
    );
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => keyId(new Uint8Array(33))).toThrow(
      expect.objectContaining({ code: 'INVALID_PUBLIC_KEY' }),
    );
  });
});
