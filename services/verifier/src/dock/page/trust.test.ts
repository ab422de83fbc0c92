// The dock's offline path must enforce what the trust file demands (DESIGN §6:
// "the CLI and the dock enforce witnessQuorum when the trust file sets one").
import { describe, expect, it } from '@jest/globals';
import { toBase64, verifyBundle } from '@provenant/core';
import { ChainBuilder } from '@provenant/core/testing';
import { DEFAULT_MAX_AGE_S, trustOf } from './trust.js';

function world() {
  const b = new ChainBuilder({ witnesses: 2 });
  const { manufacturer, distributor, pharmacy } = b.cast();
  const unit = b.commission(manufacturer, { serial: 'Q1' });
  b.handoff(manufacturer, distributor, unit);
  b.ship(distributor, unit, pharmacy);
  // As `provenant trust export` writes it: witnesses as {name, publicKey}, and a quorum.
  const file = {
    ...b.trust(),
    witnesses: b.witnessKeys.map((w) => ({
      name: w.name,
      publicKey: toBase64(b.deriveKey(w.name).publicKey),
    })),
    witnessQuorum: 2,
  };
  return { b, unit, pharmacy, file };
}

describe('the dock’s trust file', () => {
  it('keeps the witnesses and the quorum a trust export writes, with the age default', () => {
    const { file } = world();
    const trust = trustOf(file);
    expect(trust.witnesses).toEqual(file.witnesses);
    expect(trust.witnessQuorum).toBe(2);
    expect(trust.maxCheckpointAgeSeconds).toBe(DEFAULT_MAX_AGE_S);
  });

  it('rejects a bundle whose checkpoint lacks the quorum, and accepts one that has it', () => {
    const { b, unit, pharmacy, file } = world();
    const context = { purpose: 'receiving' as const, party: pharmacy.gln, now: b.now(60_000) };
    const short = verifyBundle(b.bundle(unit, { witnesses: 1 }), trustOf(file), context);
    expect(short.verdict).toBe('reject');
    expect(short.reasons.map((r) => r.code)).toEqual(['LOG_PROOF_INVALID']);
    const full = verifyBundle(b.bundle(unit, { witnesses: 2 }), trustOf(file), context);
    expect(full.reasons.map((r) => r.code)).toEqual([]);
  });

  it('refuses a trust file whose witnesses are not a list', () => {
    const { file } = world();
    expect(() => trustOf({ ...file, witnesses: 'w1' })).toThrow(/witnesses/);
  });
});
