import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { nodeBackend } from './node/index.js';
import { fromBase64, toBase64, utf8 } from './bytes.js';
import { sign } from './ed25519.js';
import { addSignatureLines, cosignCheckpoint } from './note.js';
import type { Bundle } from './bundle.js';
import {
  verifyBundle,
  verifyBundleAsync,
  VerifyError,
  type VerificationResult,
  type VerifyContext,
} from './verify.js';
import {
  ChainBuilder,
  makeGln,
  makeGtin,
  makeSscc,
  type TestParty,
} from './testing/chain-builder.js';

const P = ChainBuilder.MANUFACTURER_PREFIX;

function codes(r: VerificationResult): string[] {
  return r.reasons.map((x) => x.code);
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** A unit commissioned by the manufacturer, handed to the distributor and shipped on to the pharmacy. */
function world(opts: { witnesses?: number; expiry?: string; lot?: string } = {}) {
  const b = new ChainBuilder({ witnesses: opts.witnesses ?? 0 });
  const cast = b.cast();
  const { manufacturer, distributor, pharmacy } = cast;
  const unit = b.commission(manufacturer, {
    serial: 'ABC123',
    ...(opts.lot !== undefined ? { lot: opts.lot } : {}),
    ...(opts.expiry !== undefined ? { expiry: opts.expiry } : {}),
  });
  b.handoff(manufacturer, distributor, unit);
  b.ship(distributor, unit, pharmacy);
  return { b, ...cast, unit };
}

function ctx(
  b: ChainBuilder,
  party: TestParty | null,
  extra: Partial<VerifyContext> = {},
): VerifyContext {
  return {
    purpose: 'receiving',
    now: b.now(60 * 60 * 1000),
    ...(party ? { party: party.gln } : {}),
    ...extra,
  };
}

describe('verifyBundle on honest chains', () => {
  it('accepts a unit after several handoffs, shipped to the verifying pharmacy', () => {
    const { b, unit, pharmacy, distributor } = world();
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy));
    expect(codes(r)).toEqual([]);
    expect(r.verdict).toBe('accept');
    expect(r.status).toBe('in_transit');
    expect(r.custodian).toBe(distributor.gln);
    expect(r.product).toEqual({
      gtin: makeGtin(P, 12345),
      serial: 'ABC123',
      lot: 'LOT42',
      expiry: '2028-12-31',
    });
    expect(r.custody.map((t) => t.type)).toEqual(['commission', 'ship', 'receive', 'ship']);
    expect(r.custody[3]).toMatchObject({ to: pharmacy.gln, subject: unit, seq: 3 });
  });

  it('accepts re-verification of a unit the verifying party already received', () => {
    const { b, unit, pharmacy } = world();
    b.receive(pharmacy, unit);
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy));
    expect(codes(r)).toEqual([]);
    expect(r.status).toBe('active');
    expect(r.custodian).toBe(pharmacy.gln);
  });

  it('accepts a unit that travelled in a pallet, was unpacked and shipped on', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor, pharmacy } = b.cast();
    const units = b.commissionMany(manufacturer, 12);
    const pallet = b.pack(manufacturer, makeSscc(P, 1), units);
    b.handoff(manufacturer, distributor, pallet);
    b.unpack(distributor, pallet);
    b.ship(distributor, units[3]!, pharmacy);
    const bundle = b.bundle(units[3]!);
    expect(Object.keys(bundle.chains).sort()).toEqual([pallet, units[3]].sort());
    const r = verifyBundle(bundle, b.trust(), ctx(b, pharmacy), nodeBackend);
    expect(codes(r)).toEqual([]);
    expect(r.custody.map((t) => `${t.subject === pallet ? 'pallet' : 'unit'}:${t.type}`)).toEqual([
      'unit:commission',
      'unit:pack',
      'pallet:pack',
      'pallet:ship',
      'pallet:receive',
      'pallet:unpack',
      'unit:unpack',
      'unit:ship',
    ]);
  });

  it('accepts a unit still inside a pallet shipped to the verifying party', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor } = b.cast();
    const units = b.commissionMany(manufacturer, 5);
    const pallet = b.pack(manufacturer, makeSscc(P, 2), units);
    b.ship(manufacturer, pallet, distributor);
    const r = verifyBundle(b.bundle(units[0]!), b.trust(), ctx(b, distributor));
    expect(codes(r)).toEqual([]);
    expect(r.status).toBe('in_transit');
    expect(r.custodian).toBe(manufacturer.gln);
  });

  it('accepts a pallet and counts every unit inside it', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor } = b.cast();
    const units = b.commissionMany(manufacturer, 20);
    const pallet = b.pack(manufacturer, makeSscc(P, 3), units);
    b.ship(manufacturer, pallet, distributor);
    const r = verifyBundle(b.bundle(pallet), b.trust(), ctx(b, distributor), nodeBackend);
    expect(codes(r)).toEqual([]);
    expect(r.units).toEqual({
      total: 20,
      counts: { accept: 20, quarantine: 0, reject: 0 },
      failing: [],
    });
    expect(r.status).toBe('in_transit');
  });

  it('accepts a unit through a case, a pallet of the same units, and two distributors', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor, pharmacy } = b.cast();
    const second = b.party({
      name: 'Regional DC',
      gln: makeGln('0755555', 1),
      roles: ['distributor'],
    });
    const units = b.commissionMany(manufacturer, 4);
    const kase = b.pack(manufacturer, makeSscc(P, 10), units);
    b.handoff(manufacturer, distributor, kase);
    b.unpack(distributor, kase);
    const pallet = b.pack(distributor, makeSscc('0712345', 11), units);
    b.handoff(distributor, second, pallet);
    b.unpack(second, pallet);
    const r = verifyBundle(b.bundle(pallet), b.trust(), ctx(b, second));
    expect(codes(r)).toEqual([]);
    expect(r.status).toBe('inactive');
    b.ship(second, units[1]!, pharmacy);
    const u = verifyBundle(b.bundle(units[1]!), b.trust(), ctx(b, pharmacy));
    expect(codes(u)).toEqual([]);
  });

  it('accepts with a k-of-n witness policy met', () => {
    const { b, unit, pharmacy } = world({ witnesses: 3 });
    const r = verifyBundle(
      b.bundle(unit, { witnesses: 2 }),
      b.trust({ witnesses: 3, minWitnesses: 2 }),
      ctx(b, pharmacy),
    );
    expect(codes(r)).toEqual([]);
  });

  it('gives the same answer through the async hook, which sees every record signature once', async () => {
    const { b, unit, pharmacy } = world();
    const bundle = b.bundle(unit);
    let seen = 0;
    const r = await verifyBundleAsync(bundle, b.trust(), ctx(b, pharmacy), {
      backend: nodeBackend,
      signatureCheck: async (items) => {
        seen += items.length;
        return items.map(() => true);
      },
    });
    expect(codes(r)).toEqual([]);
    expect(seen).toBe(8); // 4 record signatures + 4 receipts
    expect(r).toEqual(verifyBundle(bundle, b.trust(), ctx(b, pharmacy)));
  });
});

describe('verifyBundle finds forgery and tampering (reject)', () => {
  it('reports SIGNATURE_INVALID for a logged record whose signature does not verify', () => {
    const { b, unit, pharmacy, distributor } = world();
    b.receive(pharmacy, unit, {
      tamper: (env) => ({
        ...env,
        signatures: [
          {
            keyid: env.signatures[0]!.keyid,
            sig: toBase64(sign(utf8('other'), pharmacy.key.seed)),
          },
        ],
      }),
    });
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy));
    expect(codes(r)).toEqual(['SIGNATURE_INVALID']);
    expect(r.reasons[0]).toMatchObject({ subject: unit, seq: 4 });
    expect(r.verdict).toBe('reject');
    void distributor;
  });

  it('reports SIGNATURE_INVALID when the payload kid differs from the envelope keyid', () => {
    const { b, unit, pharmacy, distributor } = world();
    b.receive(pharmacy, unit, { kid: distributor.key.kid });
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([
      'SIGNATURE_INVALID',
    ]);
  });

  it('reports KEY_UNKNOWN for a record signed with a key nobody registered', () => {
    const { b, unit, pharmacy } = world();
    b.receive(pharmacy, unit, { key: b.deriveKey('rogue') });
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([
      'KEY_UNKNOWN',
    ]);
  });

  it('reports KEY_UNKNOWN when the key registration is not signed by the authority', () => {
    const b = new ChainBuilder();
    const { manufacturer, pharmacy } = b.cast();
    const rogue = b.deriveKey('rogue');
    // A registry notice signed by a party key instead of the authority's: no registration at all.
    b.notice(
      'key',
      {
        gln: manufacturer.gln,
        kid: rogue.kid,
        publicKey: Buffer.from(rogue.publicKey).toString('base64url'),
      },
      'authority',
      { key: manufacturer.key, kid: manufacturer.key.kid },
    );
    const unit = b.commission(manufacturer, { serial: 'R1' }, { key: rogue });
    b.ship(manufacturer, unit, pharmacy, { key: rogue });
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([
      'KEY_UNKNOWN',
    ]);
  });

  it('reports KEY_UNKNOWN for a record logged before its key was registered', () => {
    const b = new ChainBuilder();
    const { manufacturer, pharmacy } = b.cast();
    const later = b.deriveKey('later');
    const unit = b.commission(manufacturer, { serial: 'L1' }, { key: later });
    b.notice('key', {
      gln: manufacturer.gln,
      kid: later.kid,
      publicKey: Buffer.from(later.publicKey).toString('base64url'),
    });
    b.ship(manufacturer, unit, pharmacy, { key: later });
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy));
    expect(codes(r)).toEqual(['KEY_UNKNOWN']);
    expect(r.reasons[0]!.seq).toBe(0);
  });

  it("reports KEY_NOT_AUTHORIZED for a record signed with another party's key", () => {
    const { b, unit, pharmacy, manufacturer } = world();
    b.receive(pharmacy, unit, { key: manufacturer.key });
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([
      'KEY_NOT_AUTHORIZED',
    ]);
  });

  it("reports KEY_NOT_AUTHORIZED, not KEY_UNKNOWN, for another party's key the bundle leaves out but keyOwners names", () => {
    const { b, unit, pharmacy, distributor } = world();
    const rogue = b.deriveKey('outsider');
    b.receive(pharmacy, unit, { key: rogue });
    const bundle = b.bundle(unit);
    const owners = { [rogue.kid]: distributor.gln };
    const r = verifyBundle(bundle, b.trust(), ctx(b, pharmacy, { keyOwners: owners }));
    expect(codes(r)).toEqual(['KEY_NOT_AUTHORIZED']);
    expect(r.reasons[0]).toMatchObject({ subject: unit, seq: 4 });
    // Named as the actor's own key, it is still unproved: KEY_UNKNOWN.
    const own = { [rogue.kid]: pharmacy.gln };
    expect(codes(verifyBundle(bundle, b.trust(), ctx(b, pharmacy, { keyOwners: own })))).toEqual([
      'KEY_UNKNOWN',
    ]);
  });

  it('reports CHAIN_BROKEN for a record listed under the chain of another subject', () => {
    const { b, unit, pharmacy } = world();
    const bundle = clone(b.bundle(unit));
    const other = '01/' + makeGtin(P, 12345) + '/21/OTHER1';
    bundle.chains[other] = bundle.chains[unit]!;
    delete bundle.chains[unit];
    const r = verifyBundle(bundle, b.trust(), ctx(b, pharmacy));
    expect(codes(r)).toEqual(['CHAIN_BROKEN']);
    expect(r.reasons[0]).toMatchObject({ subject: other });
  });

  it('reports KEY_REVOKED for a record logged after its key was compromised', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor } = b.cast();
    const unit = b.commission(manufacturer, { serial: 'K1' });
    const old = manufacturer.key;
    const ship = b.ship(manufacturer, unit, distributor);
    b.addKey(manufacturer);
    // compromised one second before the ship was logged
    b.revokeKey(
      manufacturer,
      old.kid,
      new Date(Date.parse(ship.receipt.integratedAt) - 1000).toISOString(),
    );
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, distributor));
    expect(codes(r)).toEqual(['KEY_REVOKED']);
    expect(r.reasons[0]!.seq).toBe(1);
  });

  it('accepts records logged before the compromise time of a later revoked key', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor } = b.cast();
    const unit = b.commission(manufacturer, { serial: 'K2' });
    const old = manufacturer.key;
    const ship = b.ship(manufacturer, unit, distributor);
    b.addKey(manufacturer);
    b.revokeKey(
      'authority',
      old.kid,
      new Date(Date.parse(ship.receipt.integratedAt) + 1000).toISOString(),
    );
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, distributor)))).toEqual([]);
  });

  it('ignores a revocation signed by the revoked key itself', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor } = b.cast();
    const unit = b.commission(manufacturer, { serial: 'K3' });
    b.ship(manufacturer, unit, distributor);
    b.revokeKey(manufacturer, manufacturer.key.kid, '2020-01-01T00:00:00.000Z');
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, distributor)))).toEqual([]);
  });

  it('reports KEY_REVOKED for a record logged while its key was suspended', () => {
    const { b, unit, pharmacy } = world();
    b.notice('key-suspend', { kid: pharmacy.key.kid });
    b.receive(pharmacy, unit);
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([
      'KEY_REVOKED',
    ]);
  });

  it('reports CHAIN_BROKEN for a record whose prev is not the previous id', () => {
    const { b, unit, pharmacy } = world();
    b.receive(pharmacy, unit, { prev: 'ab'.repeat(32) });
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy));
    expect(codes(r)).toEqual(['CHAIN_BROKEN']);
    expect(r.reasons[0]).toMatchObject({ subject: unit, seq: 4 });
  });

  it('reports CHAIN_BROKEN for a gap in seq', () => {
    const { b, unit, pharmacy } = world();
    b.receive(pharmacy, unit, { seq: 5 });
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([
      'CHAIN_BROKEN',
    ]);
  });

  it('reports CHAIN_FORK for a clone shipped twice', () => {
    const { b, unit, pharmacy, distributor, clinic } = world();
    b.rewind(unit, 2);
    b.ship(distributor, unit, clinic);
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy));
    expect(codes(r)).toEqual(['CHAIN_FORK']);
    expect(r.reasons[0]).toMatchObject({ subject: unit, seq: 3 });
  });

  it('reports GENESIS_INVALID for a unit commissioned by a party not owning the GTIN prefix', () => {
    const b = new ChainBuilder();
    const { distributor, pharmacy } = b.cast();
    const unit = b.commission(distributor, { serial: 'FAKE1' });
    b.ship(distributor, unit, pharmacy);
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy));
    expect(codes(r)).toEqual(['GENESIS_INVALID']);
    expect(r.status).toBe('unknown');
  });

  it('reports GENESIS_INVALID for a unit chain that does not start with a commission', () => {
    const b = new ChainBuilder();
    const { manufacturer, pharmacy } = b.cast();
    const unit = '01/' + makeGtin(P, 12345) + '/21/NOGEN';
    b.ship(manufacturer, unit, pharmacy);
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([
      'GENESIS_INVALID',
    ]);
  });

  it('reports CUSTODY_VIOLATION for a shipment by a party that does not hold the unit', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor, pharmacy } = b.cast();
    const unit = b.commission(manufacturer, { serial: 'CV1' });
    b.ship(distributor, unit, pharmacy);
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy));
    expect(codes(r)).toEqual(['CUSTODY_VIOLATION']);
    expect(r.custodian).toBe(manufacturer.gln);
  });

  it('reports CUSTODY_VIOLATION for a decommissioned pack shipped again', () => {
    const { b, unit, pharmacy, clinic } = world();
    b.receive(pharmacy, unit);
    b.decommission(pharmacy, unit);
    b.ship(pharmacy, unit, clinic);
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, clinic)))).toEqual([
      'CUSTODY_VIOLATION',
    ]);
  });

  describe('LOG_PROOF_INVALID', () => {
    it('is reported for a checkpoint signed by another key', () => {
      const { b, unit, pharmacy } = world();
      const other = new ChainBuilder({ origin: b.origin, namespace: 'impostor' });
      const r = verifyBundle(b.bundle(unit), other.trust(), ctx(b, pharmacy));
      expect(codes(r)).toEqual(['LOG_PROOF_INVALID']);
      expect(r.status).toBe('unknown');
    });

    it('is reported when the witness quorum is not met', () => {
      const { b, unit, pharmacy } = world({ witnesses: 3 });
      const r = verifyBundle(
        b.bundle(unit, { witnesses: 1 }),
        b.trust({ witnesses: 3, minWitnesses: 2 }),
        ctx(b, pharmacy),
      );
      expect(codes(r)).toEqual(['LOG_PROOF_INVALID']);
      expect(r.reasons[0]!.message).toContain('WITNESS_QUORUM_NOT_MET');
    });

    it('is reported for a flipped inclusion proof hash', () => {
      const { b, unit, pharmacy } = world();
      const bundle = clone(b.bundle(unit));
      const p = bundle.chains[unit]![0]!.proof;
      p[1] = (p[1]![0] === 'a' ? 'b' : 'a') + p[1]!.slice(1);
      const r = verifyBundle(bundle, b.trust(), ctx(b, pharmacy));
      expect(codes(r)).toEqual(['LOG_PROOF_INVALID']);
      expect(r.reasons[0]).toMatchObject({ subject: unit, seq: 0 });
    });

    it('is reported for a receipt whose time was changed', () => {
      const { b, unit, pharmacy } = world();
      const bundle = clone(b.bundle(unit));
      bundle.chains[unit]![2]!.receipt.integratedAt = '2026-01-01T00:00:00.000Z';
      expect(codes(verifyBundle(bundle, b.trust(), ctx(b, pharmacy)))).toEqual([
        'LOG_PROOF_INVALID',
      ]);
    });

    it('is reported with SIGNATURE_INVALID for a payload tampered in the bundle', () => {
      const { b, unit, pharmacy, clinic } = world();
      const bundle = clone(b.bundle(unit));
      const env = bundle.chains[unit]![3]!.envelope;
      const payload = new TextDecoder()
        .decode(fromBase64(env.payload)!)
        .replace(pharmacy.gln, clinic.gln);
      env.payload = toBase64(utf8(payload));
      expect(codes(verifyBundle(bundle, b.trust(), ctx(b, clinic)))).toEqual([
        'SIGNATURE_INVALID',
        'LOG_PROOF_INVALID',
      ]);
    });

    it('is reported for a bundle that is not a bundle', () => {
      const { b, pharmacy } = world();
      for (const bad of [
        null,
        42,
        'x',
        {},
        { v: 2 },
        { v: 1, subject: 'nope', checkpoint: '', chains: {}, notices: [] },
      ]) {
        const r = verifyBundle(bad, b.trust(), ctx(b, pharmacy));
        expect(codes(r)).toEqual(['LOG_PROOF_INVALID']);
      }
    });
  });
});

describe('verifyBundle finds suspect products (quarantine)', () => {
  it('reports UNKNOWN_PRODUCT for a serial with no chain', () => {
    const { b, pharmacy } = world();
    const r = verifyBundle(
      b.bundle(`01/${makeGtin(P, 12345)}/21/NOSUCH`),
      b.trust(),
      ctx(b, pharmacy),
    );
    expect(codes(r)).toEqual(['UNKNOWN_PRODUCT']);
    expect(r.verdict).toBe('quarantine');
    expect(r.status).toBe('unknown');
  });

  it('matches a scanned expiry as the label carries it: YYMMDD, whatever century §7.12 gave it', () => {
    const { b, unit, pharmacy } = world();
    const bundle = b.bundle(unit);
    // Commissioned 2028-12-31: a label prints 281231, which a reader may resolve to 1928.
    const check = (expiry: string) =>
      codes(verifyBundle(bundle, b.trust(), ctx(b, pharmacy, { scan: { expiry } })));
    expect(check('1928-12-31')).toEqual([]);
    expect(check('2128-12-31')).toEqual([]);
    expect(check('1928-12-30')).toEqual(['EXPIRY_MISMATCH']);
    expect(check('2029-12-31')).toEqual(['EXPIRY_MISMATCH']);
  });

  it('reports LOT_MISMATCH and EXPIRY_MISMATCH against the scanned code', () => {
    const { b, unit, pharmacy } = world();
    const bundle = b.bundle(unit);
    expect(
      codes(verifyBundle(bundle, b.trust(), ctx(b, pharmacy, { scan: { lot: 'LOT43' } }))),
    ).toEqual(['LOT_MISMATCH']);
    expect(
      codes(verifyBundle(bundle, b.trust(), ctx(b, pharmacy, { scan: { expiry: '2028-11-30' } }))),
    ).toEqual(['EXPIRY_MISMATCH']);
    expect(
      codes(
        verifyBundle(
          bundle,
          b.trust(),
          ctx(b, pharmacy, { scan: { lot: 'LOT42', expiry: '2028-12-31' } }),
        ),
      ),
    ).toEqual([]);
  });

  it('reports EXPIRED for a unit past its expiry date', () => {
    const { b, unit, pharmacy } = world({ expiry: '2026-01-04' });
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual(['EXPIRED']);
  });

  it('reports RECALLED for a recalled lot, and not for another lot', () => {
    const { b, unit, pharmacy, manufacturer } = world();
    b.recall(manufacturer, makeGtin(P, 12345), 'LOT7');
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([]);
    b.recall(manufacturer, makeGtin(P, 12345), 'LOT42');
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual(['RECALLED']);
  });

  it('ignores a recall by a party that is not the manufacturer', () => {
    const { b, unit, pharmacy, distributor } = world();
    b.recall(distributor, makeGtin(P, 12345));
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([]);
  });

  it('reports DECOMMISSIONED for a dispensed pack presented as a saleable return', () => {
    const { b, unit, pharmacy } = world();
    b.receive(pharmacy, unit);
    b.decommission(pharmacy, unit, 'dispensed');
    const r = verifyBundle(b.bundle(unit), b.trust(), {
      purpose: 'saleable_return',
      now: b.now(3600_000),
    });
    expect(codes(r)).toEqual(['DECOMMISSIONED']);
    expect(r.status).toBe('inactive');
  });

  it('reports NOT_SHIPPED_TO_YOU for a unit shipped to another party (diversion)', () => {
    const { b, unit, clinic } = world();
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, clinic));
    expect(codes(r)).toEqual(['NOT_SHIPPED_TO_YOU']);
  });

  it('reports NOT_SHIPPED_TO_YOU when dispensing a unit held by another party', () => {
    const { b, unit, pharmacy, clinic } = world();
    b.receive(pharmacy, unit);
    expect(
      codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, clinic, { purpose: 'dispense' }))),
    ).toEqual(['NOT_SHIPPED_TO_YOU']);
  });

  it('reports IN_QUARANTINE for a unit on hold', () => {
    const { b, unit, pharmacy } = world();
    b.receive(pharmacy, unit);
    b.quarantine(pharmacy, unit);
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy));
    expect(codes(r)).toEqual(['IN_QUARANTINE']);
    expect(r.status).toBe('quarantined');
    b.release(pharmacy, unit);
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([]);
  });

  it('reports PARTY_SUSPENDED when a party in the chain is suspended now', () => {
    const { b, unit, pharmacy, distributor } = world();
    b.suspend(distributor.gln);
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([
      'PARTY_SUSPENDED',
    ]);
    b.reinstate(distributor.gln);
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([]);
  });

  it('reports TIME_ANOMALY for a record dated an hour before the previous one', () => {
    const { b, unit, pharmacy } = world();
    b.receive(pharmacy, unit, { time: b.now(-3600_000) });
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy));
    expect(codes(r)).toEqual(['TIME_ANOMALY']);
    expect(r.reasons[0]!.seq).toBe(4);
  });

  it('reports TIME_ANOMALY for a record dated after its log receipt', () => {
    const { b, unit, pharmacy } = world();
    b.receive(pharmacy, unit, { integratedAt: b.now(-10 * 60_000 + 60_000) });
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([
      'TIME_ANOMALY',
    ]);
  });

  it('reports TIME_ANOMALY for a record from the future', () => {
    const { b, unit, pharmacy } = world();
    const r = verifyBundle(b.bundle(unit), b.trust(), {
      ...ctx(b, pharmacy),
      now: b.now(-2 * 3600_000),
    });
    expect(codes(r)).toEqual(['TIME_ANOMALY']);
  });

  it('reports CHECKPOINT_STALE for a checkpoint older than the policy allows', () => {
    const { b, unit, pharmacy } = world();
    const bundle = b.bundle(unit);
    const trust = b.trust({ maxCheckpointAgeSeconds: 600 });
    expect(
      codes(verifyBundle(bundle, trust, ctx(b, pharmacy, { checkpointTime: b.now(-3600_000) }))),
    ).toEqual(['CHECKPOINT_STALE']);
    expect(
      codes(verifyBundle(bundle, trust, ctx(b, pharmacy, { checkpointTime: b.now(3500_000) }))),
    ).toEqual([]);
    // Without a fetch time the newest receipt bounds the checkpoint's age.
    expect(codes(verifyBundle(bundle, trust, ctx(b, pharmacy)))).toEqual(['CHECKPOINT_STALE']);
  });

  it('merges findings from outside the bundle (DUPLICATE_SCAN, BUNDLE_DIVERGES)', () => {
    const { b, unit, pharmacy } = world();
    const r = verifyBundle(
      b.bundle(unit),
      b.trust(),
      ctx(b, pharmacy, {
        findings: [{ code: 'DUPLICATE_SCAN', message: 'scanned by 0788888000013', subject: unit }],
      }),
    );
    expect(codes(r)).toEqual(['DUPLICATE_SCAN']);
    expect(r.verdict).toBe('quarantine');
  });
});

const DAY = 24 * 60 * 60 * 1000;

describe('verifyBundle against backdating (issue 10 #1)', () => {
  /** A unit received and dispensed by the pharmacy; returns the decommission's times. */
  function dispensed() {
    const w = world();
    w.b.receive(w.pharmacy, w.unit);
    const d = w.b.decommission(w.pharmacy, w.unit, 'dispensed');
    return { ...w, dispensedAt: d.receipt.integratedAt };
  }

  it('a reactivate logged 20 days after the decommission is not accept, whatever time it claims', () => {
    const { b, unit, pharmacy, dispensedAt } = dispensed();
    // The attack: signed as if 5 days after the dispense, logged 20 days after it.
    const claimed = new Date(Date.parse(dispensedAt) + 5 * DAY).toISOString();
    const loggedAt = b.tick(20 * DAY);
    b.reactivate(pharmacy, unit, { time: claimed, integratedAt: loggedAt });
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy, { purpose: 'dispense' }));
    expect(r.verdict).toBe('reject');
    expect(codes(r)).toEqual(expect.arrayContaining(['CUSTODY_VIOLATION', 'TIME_ANOMALY']));
  });

  it('judges the reactivation window on receipt times even when the claimed time is honest-looking', () => {
    const { b, unit, pharmacy } = dispensed();
    // Logged 11 days later, dated within the backdate allowance of its receipt.
    const loggedAt = b.tick(11 * DAY);
    b.reactivate(pharmacy, unit, {
      time: new Date(Date.parse(loggedAt) - 2 * DAY).toISOString(),
      integratedAt: loggedAt,
    });
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy, { purpose: 'dispense' }));
    expect(codes(r)).toEqual(['CUSTODY_VIOLATION']);
  });

  it('accepts a reactivate logged within 10 days of the decommission', () => {
    const { b, unit, pharmacy } = dispensed();
    b.tick(9 * DAY);
    b.reactivate(pharmacy, unit);
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy, { purpose: 'dispense' }));
    expect(codes(r)).toEqual([]);
  });

  it('reports TIME_ANOMALY for a record dated more than 72 hours before its receipt', () => {
    const { b, unit, pharmacy } = world();
    const loggedAt = b.tick(4 * DAY);
    b.receive(pharmacy, unit, {
      time: new Date(Date.parse(loggedAt) - 73 * 60 * 60 * 1000).toISOString(),
      integratedAt: loggedAt,
    });
    const bundle = b.bundle(unit);
    expect(codes(verifyBundle(bundle, b.trust(), ctx(b, pharmacy)))).toEqual(['TIME_ANOMALY']);
    // maxBackdateMs is the engine's policy (the issuer's PROVENANT_MAX_BACKDATE).
    expect(
      codes(verifyBundle(bundle, b.trust(), ctx(b, pharmacy), { maxBackdateMs: 4 * DAY })),
    ).toEqual([]);
  });

  it('reports TIME_ANOMALY for a record dated a minute before the previous one', () => {
    const { b, unit, pharmacy } = world();
    b.receive(pharmacy, unit, { time: b.now(-60_000) });
    expect(codes(verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy)))).toEqual([
      'TIME_ANOMALY',
    ]);
  });

  it('refuses a negative maxBackdateMs as misuse', () => {
    const { b, unit, pharmacy } = world();
    expect(() =>
      verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy), { maxBackdateMs: -1 }),
    ).toThrow(VerifyError);
  });
});

describe('verifyBundle on SSCCs under another company prefix (issue 10 #4)', () => {
  it('reports GENESIS_INVALID for a pallet built under the manufacturer prefix by a distributor', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor, pharmacy } = b.cast();
    const units = b.commissionMany(manufacturer, 2);
    for (const u of units) b.handoff(manufacturer, distributor, u);
    const pallet = b.pack(distributor, makeSscc(P, 77), units);
    b.ship(distributor, pallet, pharmacy);
    const r = verifyBundle(b.bundle(pallet), b.trust(), ctx(b, pharmacy));
    expect(r.verdict).toBe('reject');
    expect(codes(r)).toContain('GENESIS_INVALID');
  });

  it('accepts the same pallet under the distributor prefix', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor, pharmacy } = b.cast();
    const units = b.commissionMany(manufacturer, 2);
    for (const u of units) b.handoff(manufacturer, distributor, u);
    const pallet = b.pack(distributor, makeSscc('0712345', 77), units);
    b.ship(distributor, pallet, pharmacy);
    expect(codes(verifyBundle(b.bundle(pallet), b.trust(), ctx(b, pharmacy)))).toEqual([]);
  });
});

describe('verifyBundle on a logistic unit', () => {
  it('lists the failing units of a pallet with a recalled lot', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor } = b.cast();
    const a = b.commissionMany(manufacturer, 6, { lot: 'A1', serialPrefix: 'A' });
    const c = b.commissionMany(manufacturer, 4, { lot: 'C1', serialPrefix: 'C' });
    const pallet = b.pack(manufacturer, makeSscc(P, 5), [...a, ...c]);
    b.ship(manufacturer, pallet, distributor);
    b.recall(manufacturer, makeGtin(P, 12345), 'C1');
    const r = verifyBundle(b.bundle(pallet), b.trust(), ctx(b, distributor));
    expect(r.verdict).toBe('quarantine');
    expect(codes(r)).toEqual(['RECALLED']);
    expect(r.reasons[0]!.message).toMatch(/^4 of 10 units/);
    expect(r.units!.counts).toEqual({ accept: 6, quarantine: 4, reject: 0 });
    expect(r.units!.failing.map((f) => f.subject)).toEqual(c);
    expect(r.units!.failing[0]!.reasons.map((x) => x.code)).toEqual(['RECALLED']);
  });

  it('rejects a pallet holding a unit with a forged commission', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor } = b.cast();
    const units = b.commissionMany(manufacturer, 3);
    const forged = b.commission(manufacturer, { serial: 'FORGED' }, { key: distributor.key });
    const pallet = b.pack(manufacturer, makeSscc(P, 6), [...units, forged]);
    b.ship(manufacturer, pallet, distributor);
    const r = verifyBundle(b.bundle(pallet), b.trust(), ctx(b, distributor));
    expect(r.verdict).toBe('reject');
    expect(codes(r)).toEqual(['KEY_NOT_AUTHORIZED']);
    expect(r.units!.failing).toEqual([
      {
        subject: forged,
        verdict: 'reject',
        reasons: [expect.objectContaining({ code: 'KEY_NOT_AUTHORIZED', subject: forged, seq: 0 })],
      },
    ]);
  });

  it('reports NOT_SHIPPED_TO_YOU once for a pallet shipped elsewhere, not per unit', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor, pharmacy } = b.cast();
    const pallet = b.pack(manufacturer, makeSscc(P, 7), b.commissionMany(manufacturer, 5));
    b.ship(manufacturer, pallet, distributor);
    const r = verifyBundle(b.bundle(pallet), b.trust(), ctx(b, pharmacy));
    expect(codes(r)).toEqual(['NOT_SHIPPED_TO_YOU']);
    expect(r.units!.failing).toEqual([]);
  });

  it('reports UNKNOWN_PRODUCT for a unit whose chain is missing from the bundle', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor } = b.cast();
    const units = b.commissionMany(manufacturer, 3);
    const pallet = b.pack(manufacturer, makeSscc(P, 8), units);
    b.ship(manufacturer, pallet, distributor);
    const r = verifyBundle(
      b.bundle(pallet, { omit: (e) => e.record?.subject === units[1] }),
      b.trust(),
      ctx(b, distributor),
    );
    expect(codes(r)).toEqual(['UNKNOWN_PRODUCT']);
    expect(r.units!.failing.map((f) => f.subject)).toEqual([units[1]]);
  });
});

describe("verifyBundle with receiptSignatures: 'needed'", () => {
  // Scenarios where a receipt time decides a code: the shortcut must find the same codes as checking every receipt.
  const scenarios: [
    string,
    string[],
    () => { b: ChainBuilder; bundle: Bundle; c: VerifyContext },
  ][] = [
    [
      'an honest pallet',
      [],
      () => {
        const b = new ChainBuilder();
        const { manufacturer, distributor } = b.cast();
        const pallet = b.pack(manufacturer, makeSscc(P, 20), b.commissionMany(manufacturer, 4));
        b.ship(manufacturer, pallet, distributor);
        return { b, bundle: b.bundle(pallet), c: ctx(b, distributor) };
      },
    ],
    [
      'a pallet packed with a key compromised before',
      ['KEY_REVOKED', 'KEY_REVOKED'],
      () => {
        const b = new ChainBuilder();
        const { manufacturer } = b.cast();
        const units = b.commissionMany(manufacturer, 4);
        const old = manufacturer.key;
        b.pack(manufacturer, makeSscc(P, 21), units);
        b.addKey(manufacturer);
        b.revokeKey('authority', old.kid, b.now(-30 * 60_000));
        return {
          b,
          bundle: b.bundle(makeSscc(P, 21).replace(/^/, '00/')),
          c: ctx(b, manufacturer),
        };
      },
    ],
    [
      'a child whose receipt is dated before its record',
      ['TIME_ANOMALY'],
      () => {
        const b = new ChainBuilder();
        const { manufacturer, distributor } = b.cast();
        const units = b.commissionMany(manufacturer, 3);
        b.record(
          manufacturer,
          units[1]!,
          'quarantine',
          { case: 'C', reason: 'r' },
          { integratedAt: b.now(-20 * 60_000) },
        );
        b.release(manufacturer, units[1]!, 'C');
        const pallet = b.pack(manufacturer, makeSscc(P, 22), units);
        b.ship(manufacturer, pallet, distributor);
        return { b, bundle: b.bundle(pallet), c: ctx(b, distributor) };
      },
    ],
  ];

  it.each(scenarios)(
    'finds the same codes as checking every receipt for %s',
    (_name, expected, make) => {
      const { b, bundle, c } = make();
      const all = verifyBundle(bundle, b.trust(), c);
      expect(codes(all)).toEqual(expected);
      const needed = verifyBundle(bundle, b.trust(), c, { receiptSignatures: 'needed' });
      expect(needed.reasons).toEqual(all.reasons);
      expect(needed.units).toEqual(all.units);
    },
  );

  it('still reports LOG_PROOF_INVALID, not TIME_ANOMALY, for a child receipt whose time was forged', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor } = b.cast();
    const units = b.commissionMany(manufacturer, 3);
    const pallet = b.pack(manufacturer, makeSscc(P, 23), units);
    b.ship(manufacturer, pallet, distributor);
    const bundle = clone(b.bundle(pallet));
    bundle.chains[units[2]!]![0]!.receipt.integratedAt = '2025-01-01T00:00:00.000Z';
    const r = verifyBundle(bundle, b.trust(), ctx(b, distributor), { receiptSignatures: 'needed' });
    expect(codes(r)).toEqual(['LOG_PROOF_INVALID']);
    expect(r.units!.failing.map((f) => f.subject)).toEqual([units[2]]);
  });
});

describe('verifyBundle misuse and hostile input', () => {
  it('throws VerifyError for receiving without a party, and for a bad trust key', () => {
    const { b, unit } = world();
    const bundle = b.bundle(unit);
    expect(() => verifyBundle(bundle, b.trust(), { purpose: 'receiving', now: b.now() })).toThrow(
      VerifyError,
    );
    expect(() =>
      verifyBundle(
        bundle,
        { ...b.trust(), logKey: 'nope' },
        { purpose: 'saleable_return', now: b.now() },
      ),
    ).toThrow(VerifyError);
    expect(() =>
      verifyBundle(bundle, b.trust(), { purpose: 'saleable_return', now: 'yesterday' }),
    ).toThrow(VerifyError);
  });

  it('never throws for a mutated bundle', () => {
    const { b, unit, pharmacy } = world();
    const base = b.bundle(unit);
    const trust = b.trust();
    const c = ctx(b, pharmacy);
    const paths: ((x: Bundle, v: unknown) => void)[] = [
      (x, v) => ((x.chains[unit]![0] as unknown as Record<string, unknown>)['envelope'] = v),
      (x, v) => ((x.chains[unit]![1]!.receipt as unknown as Record<string, unknown>)['index'] = v),
      (x, v) => ((x.chains[unit]![2]!.proof as unknown[])[0] = v),
      (x, v) => ((x.notices[0]!.envelope as unknown as Record<string, unknown>)['payload'] = v),
      (x, v) => ((x.chains[unit]![3]!.envelope.signatures as unknown[])[0] = v),
      (x, v) => ((x as unknown as Record<string, unknown>)['checkpoint'] = v),
      (x, v) => ((x.chains as Record<string, unknown>)[unit] = v),
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: paths.length - 1 }), fc.anything(), (i, v) => {
        const x = clone(base);
        paths[i]!(x, v);
        const r = verifyBundle(x, trust, c);
        expect(['accept', 'quarantine', 'reject']).toContain(r.verdict);
      }),
      { numRuns: 150 },
    );
  });
});

describe('verifyBundle performance', () => {
  it('verifies a 10,000-unit pallet end to end and prints the time (not asserted)', () => {
    const b = new ChainBuilder({ backend: nodeBackend });
    const { manufacturer, distributor } = b.cast();
    let t = performance.now();
    const units = b.commissionMany(manufacturer, 10_000);
    const pallet = b.pack(manufacturer, makeSscc(P, 9), units);
    b.ship(manufacturer, pallet, distributor);
    const bundle = JSON.parse(JSON.stringify(b.bundle(pallet))) as Bundle;
    const built = performance.now() - t;
    const c = ctx(b, distributor);
    const run = (opts: Parameters<typeof verifyBundle>[3]) => {
      t = performance.now();
      const r = verifyBundle(bundle, b.trust(), c, opts);
      const ms = performance.now() - t;
      expect(codes(r)).toEqual([]);
      expect(r.units!.counts.accept).toBe(10_000);
      return ms;
    };
    const all = run({ backend: nodeBackend });
    const needed = run({ backend: nodeBackend, receiptSignatures: 'needed' });
    console.log(
      `10,000-unit pallet (${Object.keys(bundle.chains).length} chains, ${b.tree.size} log entries): built in ${built.toFixed(0)} ms; ` +
        `verified single-threaded with node:crypto in ${all.toFixed(0)} ms (every receipt signature), ` +
        `${needed.toFixed(0)} ms (receiptSignatures: 'needed')`,
    );
  });
});

// ---------------------------------------------------------------------------
// Issue 10, finding 5: old evidence offline. A bundle proves something only
// about the subject it is for; the scan says what is in the dock's hands.

describe('when the scanned code is not the subject of the bundle', () => {
  it('rejects a bundle fetched before the unit was dispensed, presented for another serial (SUBJECT_MISMATCH)', () => {
    const { b, unit, pharmacy } = world();
    const old = b.bundle(unit); // fetched while the genuine unit was in transit
    b.receive(pharmacy, unit);
    b.decommission(pharmacy, unit, 'dispensed');
    // A counterfeit pack with another serial is scanned; the seller shows the old bundle.
    const fake = `01/${makeGtin(P, 12345)}/21/FAKE999`;
    const r = verifyBundle(old, b.trust(), ctx(b, pharmacy, { scannedSubject: fake }));
    expect(codes(r)).toEqual(['SUBJECT_MISMATCH']);
    expect(r.verdict).toBe('reject');
    expect(r.reasons[0]!.subject).toBe(fake);
  });

  it('accepts the same bundle when the scan is its subject', () => {
    const { b, unit, pharmacy } = world();
    const r = verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy, { scannedSubject: unit }));
    expect(codes(r)).toEqual([]);
  });

  it('reports SUBJECT_MISMATCH next to a checkpoint that does not verify, and for a malformed bundle', () => {
    const { b, unit, pharmacy } = world();
    const other = `01/${makeGtin(P, 12345)}/21/OTHER`;
    const bad = clone(b.bundle(unit));
    bad.checkpoint = bad.checkpoint.replace(/\n\d+\n/, '\n1\n');
    expect(
      codes(verifyBundle(bad, b.trust(), ctx(b, pharmacy, { scannedSubject: other }))),
    ).toEqual(['LOG_PROOF_INVALID', 'SUBJECT_MISMATCH']);
    expect(
      codes(verifyBundle({ v: 1 }, b.trust(), ctx(b, pharmacy, { scannedSubject: other }))),
    ).toEqual(['LOG_PROOF_INVALID', 'SUBJECT_MISMATCH']);
  });

  it('covers a unit scanned against the bundle of the pallet it is still inside, and no other', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor } = b.cast();
    const units = b.commissionMany(manufacturer, 3);
    const stray = b.commission(manufacturer, { serial: 'STRAY1' });
    const pallet = b.pack(manufacturer, makeSscc(P, 7), units);
    b.ship(manufacturer, pallet, distributor);
    const bundle = b.bundle(pallet);
    const as = (s: string) =>
      codes(verifyBundle(bundle, b.trust(), ctx(b, distributor, { scannedSubject: s })));
    expect(as(pallet)).toEqual([]);
    expect(as(units[1]!)).toEqual([]);
    expect(as(stray)).toEqual(['SUBJECT_MISMATCH']);
    // Once unpacked, the pallet's bundle no longer speaks for its units.
    b.receive(distributor, pallet);
    b.unpack(distributor, pallet);
    const after = b.bundle(pallet);
    expect(
      codes(verifyBundle(after, b.trust(), ctx(b, distributor, { scannedSubject: units[1]! }))),
    ).toEqual(['SUBJECT_MISMATCH']);
  });

  it('takes scannedSubject and maxCheckpointAgeSeconds as options too (as the dock passes them)', () => {
    const { b, unit, pharmacy } = world();
    const other = `01/${makeGtin(P, 12345)}/21/OTHER`;
    const bundle = b.bundle(unit);
    expect(
      codes(verifyBundle(bundle, b.trust(), ctx(b, pharmacy), { scannedSubject: other })),
    ).toEqual(['SUBJECT_MISMATCH']);
    // The stricter age of trust and option holds; the bundle is an hour old.
    const lax = b.trust({ maxCheckpointAgeSeconds: 7200 });
    expect(
      codes(verifyBundle(bundle, lax, ctx(b, pharmacy), { maxCheckpointAgeSeconds: 600 })),
    ).toEqual(['CHECKPOINT_STALE']);
    expect(
      codes(
        verifyBundle(bundle, b.trust({ maxCheckpointAgeSeconds: 600 }), ctx(b, pharmacy), {
          maxCheckpointAgeSeconds: 7200,
        }),
      ),
    ).toEqual(['CHECKPOINT_STALE']);
    expect(() =>
      verifyBundle(bundle, b.trust(), ctx(b, pharmacy, { scannedSubject: unit }), {
        scannedSubject: other,
      }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CONTEXT' }));
  });

  it('refuses a scannedSubject that is not a canonical subject (misuse)', () => {
    const { b, unit, pharmacy } = world();
    expect(() =>
      verifyBundle(b.bundle(unit), b.trust(), ctx(b, pharmacy, { scannedSubject: '(01)123' })),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CONTEXT' }));
  });
});

// ---------------------------------------------------------------------------
// Issue 10, finding 6: witness quorum as the trust file states it
// (witnesses: [{name, publicKey}], witnessQuorum), DESIGN §6.

describe('when the trust file demands a witness quorum', () => {
  const asListed = (b: ChainBuilder, n: number) =>
    b.witnessKeys.slice(0, n).map((w) => ({
      name: w.name,
      publicKey: toBase64(b.deriveKey(w.name).publicKey),
    }));
  const trustOf = (b: ChainBuilder, n: number, witnessQuorum: number) => ({
    ...b.trust(),
    witnesses: asListed(b, n),
    witnessQuorum,
  });

  it('accepts a checkpoint cosigned by k distinct trusted witnesses', () => {
    const { b, unit, pharmacy } = world({ witnesses: 3 });
    const r = verifyBundle(b.bundle(unit, { witnesses: 2 }), trustOf(b, 3, 2), ctx(b, pharmacy));
    expect(codes(r)).toEqual([]);
  });

  it('rejects (LOG_PROOF_INVALID) with fewer than k cosignatures', () => {
    const { b, unit, pharmacy } = world({ witnesses: 3 });
    const r = verifyBundle(b.bundle(unit, { witnesses: 1 }), trustOf(b, 3, 2), ctx(b, pharmacy));
    expect(codes(r)).toEqual(['LOG_PROOF_INVALID']);
    expect(r.reasons[0]!.message).toContain('WITNESS_QUORUM_NOT_MET');
  });

  it('counts one witness once, however many lines it signed, and ignores self-made keys', () => {
    const { b, unit, pharmacy } = world({ witnesses: 3 });
    const w1 = b.witnessKeys[0]!;
    let note = b.checkpoint({ witnesses: 1 });
    // The same witness again, at other times; and three keys nobody trusts, one under a trusted name.
    const extra = [
      cosignCheckpoint(note, { name: w1.name, seed: w1.seed }, 1_800_000_000),
      cosignCheckpoint(note, { name: w1.name, seed: w1.seed }, 1_800_000_001),
      cosignCheckpoint(note, { name: 'sybil1.example', seed: b.deriveKey('s1').seed }, 1),
      cosignCheckpoint(note, { name: 'sybil2.example', seed: b.deriveKey('s2').seed }, 1),
      cosignCheckpoint(note, { name: b.witnessKeys[1]!.name, seed: b.deriveKey('s3').seed }, 1),
    ];
    note = addSignatureLines(note, extra);
    const r = verifyBundle(
      b.bundle(unit, { checkpoint: note }),
      trustOf(b, 3, 2),
      ctx(b, pharmacy),
    );
    expect(codes(r)).toEqual(['LOG_PROOF_INVALID']);
    expect(r.reasons[0]!.message).toContain('1 of 3 witnesses');
  });

  it('counts a witness listed twice under two names as one', () => {
    const { b, unit, pharmacy } = world({ witnesses: 1 });
    const w = asListed(b, 1)[0]!;
    const twice = {
      ...b.trust(),
      witnesses: [w, { ...w, name: 'alias.example' }],
      witnessQuorum: 2,
    };
    expect(() => verifyBundle(b.bundle(unit, { witnesses: 1 }), twice, ctx(b, pharmacy))).toThrow(
      expect.objectContaining({ code: 'INVALID_TRUST' }),
    );
  });

  it('needs no cosignature with witnessQuorum 0, the trust file default, even with witnesses listed', () => {
    const { b, unit, pharmacy } = world({ witnesses: 2 });
    const r = verifyBundle(b.bundle(unit), trustOf(b, 2, 0), ctx(b, pharmacy));
    expect(codes(r)).toEqual([]);
  });

  it('takes the larger of minWitnesses and witnessQuorum when both are set', () => {
    const { b, unit, pharmacy } = world({ witnesses: 3 });
    const r = verifyBundle(
      b.bundle(unit, { witnesses: 1 }),
      { ...trustOf(b, 3, 2), minWitnesses: 0 },
      ctx(b, pharmacy),
    );
    expect(codes(r)).toEqual(['LOG_PROOF_INVALID']);
  });

  it('refuses a malformed witness entry or an unreachable quorum (misuse)', () => {
    const { b, unit, pharmacy } = world({ witnesses: 1 });
    const bad = { ...b.trust(), witnesses: [{ name: 'w.example', publicKey: 'short' }] };
    expect(() => verifyBundle(b.bundle(unit), bad, ctx(b, pharmacy))).toThrow(
      expect.objectContaining({ code: 'INVALID_TRUST' }),
    );
    expect(() => verifyBundle(b.bundle(unit), trustOf(b, 1, 2), ctx(b, pharmacy))).toThrow(
      expect.objectContaining({ code: 'INVALID_TRUST' }),
    );
  });
});

describe('verifyBundle on nested containers (DESIGN §5: containers nest)', () => {
  /** Two SSCC cases and one serialized GTIN case of two units each, on one pallet shipped to the distributor. */
  function palletWorld() {
    const b = new ChainBuilder();
    const cast = b.cast();
    const { manufacturer, distributor } = cast;
    const units = b.commissionMany(manufacturer, 6);
    const c1 = b.pack(manufacturer, makeSscc(P, 201), units.slice(0, 2));
    const c2 = b.pack(manufacturer, makeSscc(P, 202), units.slice(2, 4));
    const gcase = b.commission(manufacturer, { gtin: makeGtin(P, 777), serial: 'CASE-1' });
    b.pack(manufacturer, gcase, units.slice(4));
    const pallet = b.pack(manufacturer, makeSscc(P, 200), [c1, c2, gcase]);
    b.ship(manufacturer, pallet, distributor);
    return { b, ...cast, units, c1, c2, gcase, pallet };
  }

  it('accepts a pallet of cases and lists every case and unit at every level', () => {
    const { b, distributor, units, c1, c2, gcase, pallet } = palletWorld();
    const bundle = b.bundle(pallet);
    expect(Object.keys(bundle.chains).sort()).toEqual([pallet, c1, c2, gcase, ...units].sort());
    const r = verifyBundle(bundle, b.trust(), ctx(b, distributor));
    expect(codes(r)).toEqual([]);
    expect(r.status).toBe('in_transit');
    expect(r.units).toEqual({
      total: 9,
      counts: { accept: 9, quarantine: 0, reject: 0 },
      failing: [],
    });
  });

  it('judges a unit two levels down by the pallet: shipped to the distributor, not to the pharmacy', () => {
    const { b, distributor, pharmacy, units, c1, pallet } = palletWorld();
    const bundle = b.bundle(units[0]!);
    expect(Object.keys(bundle.chains).sort()).toEqual([units[0], c1, pallet].sort());
    const r = verifyBundle(bundle, b.trust(), ctx(b, distributor));
    expect(codes(r)).toEqual([]);
    expect(r.status).toBe('in_transit');
    // The timeline follows the unit into its case and the case onto the pallet.
    expect(
      r.custody.map(
        (t) =>
          `${t.subject === units[0] ? 'unit' : t.subject === c1 ? 'case' : 'pallet'}:${t.type}`,
      ),
    ).toEqual([
      'unit:commission',
      'unit:pack',
      'case:pack',
      'case:pack',
      'pallet:pack',
      'pallet:ship',
    ]);
    expect(codes(verifyBundle(bundle, b.trust(), ctx(b, pharmacy)))).toEqual([
      'NOT_SHIPPED_TO_YOU',
    ]);
  });

  it('moves custody two levels down when the pallet is received', () => {
    const { b, distributor, units, gcase, pallet } = palletWorld();
    b.receive(distributor, pallet);
    for (const s of [units[5]!, gcase]) {
      const r = verifyBundle(b.bundle(s), b.trust(), ctx(b, distributor, { purpose: 'dispense' }));
      expect([s, codes(r), r.custodian, r.status]).toEqual([s, [], distributor.gln, 'active']);
    }
  });

  it('accepts a scan of a unit two levels inside the pallet bundle, not of one outside it', () => {
    const { b, distributor, units, pallet, manufacturer } = palletWorld();
    const other = b.commission(manufacturer, { serial: 'LOOSE' });
    const bundle = b.bundle(pallet);
    expect(
      codes(verifyBundle(bundle, b.trust(), ctx(b, distributor, { scannedSubject: units[3]! }))),
    ).toEqual([]);
    expect(
      codes(verifyBundle(bundle, b.trust(), ctx(b, distributor, { scannedSubject: other }))),
    ).toEqual(['SUBJECT_MISMATCH']);
  });

  it('shows a recalled unit deep inside the pallet in the pallet verification', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor } = b.cast();
    const units = [
      b.commission(manufacturer, { serial: 'R1' }),
      b.commission(manufacturer, { serial: 'R2', lot: 'BAD' }),
    ];
    const kase = b.pack(manufacturer, makeSscc(P, 301), units);
    const pallet = b.pack(manufacturer, makeSscc(P, 300), [kase]);
    b.ship(manufacturer, pallet, distributor);
    b.recall(manufacturer, makeGtin(P, 12345), 'BAD');
    const r = verifyBundle(b.bundle(pallet), b.trust(), ctx(b, distributor));
    expect(r.verdict).toBe('quarantine');
    expect(codes(r)).toEqual(['RECALLED']);
    expect(r.reasons[0]!.message).toMatch(/^1 of 3 units/);
    expect(r.units?.counts).toEqual({ accept: 2, quarantine: 1, reject: 0 });
    expect(r.units?.failing.map((f) => [f.subject, f.reasons.map((x) => x.code)])).toEqual([
      [units[1], ['RECALLED']],
    ]);
  });

  it('shows a decommissioned unit of an opened case of an opened pallet', () => {
    const { b, distributor, units, c2, pallet } = palletWorld();
    b.receive(distributor, pallet);
    b.unpack(distributor, pallet);
    b.unpack(distributor, c2);
    b.decommission(distributor, units[2]!, 'destroyed');
    const r = verifyBundle(b.bundle(pallet), b.trust(), ctx(b, distributor));
    expect(r.status).toBe('inactive');
    expect(r.units?.failing.map((f) => [f.subject, f.reasons.map((x) => x.code)])).toEqual([
      [units[2], ['DECOMMISSIONED']],
    ]);
  });

  it('rejects a case shipped out of the pallet without unpacking, naming the case', () => {
    const { b, manufacturer, pharmacy, c1, pallet, distributor } = palletWorld();
    b.ship(manufacturer, c1, pharmacy);
    const r = verifyBundle(b.bundle(pallet), b.trust(), ctx(b, distributor));
    expect(r.verdict).toBe('reject');
    expect(codes(r)).toEqual(['CUSTODY_VIOLATION']);
    expect(r.units?.failing.map((f) => [f.subject, f.verdict])).toEqual([[c1, 'reject']]);
  });

  it('rejects a unit decommissioned while inside a case inside the pallet', () => {
    const { b, manufacturer, units, pallet, distributor } = palletWorld();
    b.decommission(manufacturer, units[4]!, 'dispensed');
    const r = verifyBundle(b.bundle(pallet), b.trust(), ctx(b, distributor));
    expect(r.units?.failing.map((f) => [f.subject, f.reasons.map((x) => x.code)])).toEqual([
      [units[4], ['CUSTODY_VIOLATION']],
    ]);
  });

  it('quarantines a presented pallet bundle that leaves out a case, naming the case', () => {
    const { b, distributor, c2, pallet } = palletWorld();
    const bundle = b.bundle(pallet, { omit: (e) => e.record?.subject === c2 });
    const r = verifyBundle(bundle, b.trust(), ctx(b, distributor));
    expect(r.verdict).toBe('quarantine');
    expect(codes(r)).toEqual(['UNKNOWN_PRODUCT']);
    expect(r.units?.failing.map((f) => [f.subject, f.reasons.map((x) => x.code)])).toEqual([
      [c2, ['UNKNOWN_PRODUCT']],
    ]);
  });

  it('rejects a forged cycle A -> B -> A and still terminates', () => {
    const b = new ChainBuilder();
    const { manufacturer, distributor } = b.cast();
    const gtin = makeGtin(P, 778);
    const a = b.commission(manufacturer, { gtin, serial: 'A' });
    const c = b.commission(manufacturer, { gtin, serial: 'B' });
    const aPack = b.record(manufacturer, a, 'pack', { parent: c });
    const cPack = b.record(manufacturer, c, 'pack', { parent: a });
    b.record(
      manufacturer,
      c,
      'pack',
      { children: [{ subject: a, head: aPack.id }] },
      { seq: 2, prev: cPack.id },
    );
    b.record(
      manufacturer,
      a,
      'pack',
      { children: [{ subject: c, head: cPack.id }] },
      { seq: 2, prev: aPack.id },
    );
    for (const s of [a, c]) {
      const r = verifyBundle(b.bundle(s), b.trust(), ctx(b, distributor));
      expect(r.verdict).toBe('reject');
      expect(r.reasons.map((x) => x.code)).toContain('CUSTODY_VIOLATION');
    }
  });
});
