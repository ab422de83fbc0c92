import { describe, expect, it } from '@jest/globals';
import { bundleSchema, checkBundleFrame, MAX_PROOF_LENGTH, type Bundle } from './bundle.js';
import { ChainBuilder, makeSscc } from './testing/chain-builder.js';

function sample(): { b: ChainBuilder; bundle: Bundle; unit: string } {
  const b = new ChainBuilder();
  const { manufacturer, distributor } = b.cast();
  const units = b.commissionMany(manufacturer, 3);
  const pallet = b.pack(manufacturer, makeSscc(ChainBuilder.MANUFACTURER_PREFIX, 1), units);
  b.ship(manufacturer, pallet, distributor);
  return { b, bundle: b.bundle(units[0]!), unit: units[0]! };
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

describe('bundleSchema', () => {
  it('accepts a bundle as the chain builder (and the issuer) assembles it', () => {
    const { bundle } = sample();
    expect(bundleSchema.safeParse(clone(bundle)).success).toBe(true);
    expect(checkBundleFrame(clone(bundle)).ok).toBe(true);
  });

  // Each mutation breaks one rule of the frame; the schema and the hand-written check must agree.
  const mutations: [string, (b: Record<string, unknown>, unit: string) => void][] = [
    ['an unknown top-level field', (b) => (b['extra'] = 1)],
    ['version 2', (b) => (b['v'] = 2)],
    ['a subject that is not canonical', (b) => (b['subject'] = '01/123')],
    ['a missing checkpoint', (b) => delete b['checkpoint']],
    ['chains as an array', (b) => (b['chains'] = [])],
    [
      'a chain key that is not a subject',
      (b, u) =>
        ((b['chains'] as Record<string, unknown>)['x'] = (b['chains'] as Record<string, unknown>)[
          u
        ]),
    ],
    [
      'an entry without a proof',
      (b, u) => delete (b['chains'] as Record<string, Record<string, unknown>[]>)[u]![0]!['proof'],
    ],
    [
      'a receipt with a negative index',
      (b, u) =>
        ((b['chains'] as Record<string, Record<string, Record<string, unknown>>[]>)[u]![0]![
          'receipt'
        ]!['index'] = -1),
    ],
    [
      'a receipt with an upper-case leaf hash',
      (b, u) => {
        const r = (b['chains'] as Record<string, Record<string, Record<string, string>>[]>)[u]![0]![
          'receipt'
        ]!;
        r['leafHash'] = r['leafHash']!.toUpperCase();
      },
    ],
    [
      'a receipt time without milliseconds',
      (b, u) =>
        ((b['chains'] as Record<string, Record<string, Record<string, unknown>>[]>)[u]![0]![
          'receipt'
        ]!['integratedAt'] = '2026-01-01T00:00:00Z'),
    ],
    [
      'a receipt with an extra field',
      (b) =>
        ((b['notices'] as Record<string, Record<string, unknown>>[])[0]!['receipt']!['extra'] =
          true),
    ],
    [
      'a proof longer than any tree needs',
      (b) =>
        ((b['notices'] as Record<string, unknown>[])[0] = {
          ...(b['notices'] as Record<string, unknown>[])[0]!,
          proof: Array(MAX_PROOF_LENGTH + 1).fill('00'.repeat(32)),
        }),
    ],
    ['notices as an object', (b) => (b['notices'] = {})],
  ];

  it.each(mutations)('rejects %s, and so does checkBundleFrame', (_name, mutate) => {
    const { bundle, unit } = sample();
    const bad = clone(bundle) as unknown as Record<string, unknown>;
    mutate(bad, unit);
    expect(bundleSchema.safeParse(bad).success).toBe(false);
    expect(checkBundleFrame(bad).ok).toBe(false);
  });

  it('leaves envelopes and proof hashes to the engine, which judges them entry by entry', () => {
    const { bundle, unit } = sample();
    const bad = clone(bundle);
    (bad.chains[unit]![0]!.envelope as unknown as Record<string, unknown>)['payload'] = 42;
    bad.chains[unit]![1]!.proof[0] = 'not hex';
    expect(bundleSchema.safeParse(bad).success).toBe(false);
    expect(checkBundleFrame(bad).ok).toBe(true);
  });

  it('never throws on hostile values', () => {
    for (const v of [null, undefined, 0, 'x', [], { v: 1 }, Object.create(null), new Date()]) {
      expect(checkBundleFrame(v).ok).toBe(false);
      expect(bundleSchema.safeParse(v).success).toBe(false);
    }
  });
});
