// Offline verification benchmarks (issues 4 and 5): the engine the CLI, the
// dock page and the verifier service share, on a unit bundle with 6 handoffs,
// and a 10,000-unit pallet bundle, each against the raw node:crypto verify
// rate measured in the same run.
import { performance } from 'node:perf_hooks';
import { verifyBundle, type Bundle, type Trust, type VerifyContext } from '@provenant/core';
import { nodeBackend, nodeSha256 } from '@provenant/core/node';
import { ChainBuilder, makeSscc } from '@provenant/core/testing';
import { rawNodeRates } from './core.js';
import { measure, report } from './measure.js';

/** Signatures the engine checks for a bundle: every envelope and every receipt. */
function signatureCount(bundle: Bundle): number {
  const entries =
    Object.values(bundle.chains).reduce((n, c) => n + c.length, 0) + bundle.notices.length;
  return 2 * entries + 1; // + the checkpoint
}

function unitWorld(): { bundle: Bundle; trust: Trust; context: VerifyContext } {
  const b = new ChainBuilder({ backend: nodeBackend });
  const { manufacturer, distributor, pharmacy, clinic } = b.cast();
  const unit = b.commission(manufacturer, { serial: 'BENCH6' });
  // Six handoffs (ship + receive each), ending with a shipment to the verifying clinic.
  b.handoff(manufacturer, distributor, unit);
  b.handoff(distributor, pharmacy, unit);
  b.handoff(pharmacy, distributor, unit);
  b.handoff(distributor, pharmacy, unit);
  b.handoff(pharmacy, distributor, unit);
  b.ship(distributor, unit, clinic);
  b.receive(clinic, unit);
  return {
    bundle: b.bundle(unit),
    trust: b.trust(),
    context: { purpose: 'receiving', party: clinic.gln, now: b.now(60_000) },
  };
}

export function runVerifyBench(): void {
  console.log('\n== offline verification (issues 4, 5) ==');
  const raw = rawNodeRates();
  report('raw node:crypto Ed25519 verify', raw.verify, 'verify/s');

  const { bundle, trust, context } = unitWorld();
  const first = verifyBundle(bundle, trust, context, { backend: nodeBackend, sha256: nodeSha256 });
  if (first.verdict !== 'accept')
    throw new Error(`benchmark bundle not accepted: ${JSON.stringify(first.reasons)}`);
  const sigs = signatureCount(bundle);
  const unit = measure(() => {
    for (let i = 0; i < 10; i++)
      verifyBundle(bundle, trust, context, { backend: nodeBackend, sha256: nodeSha256 });
  }, 10);
  report(`6-handoff unit bundle, CLI engine (${sigs} signatures)`, unit.perSecond, 'bundles/s', {
    to: `raw verify ÷ ${sigs}`,
    value: unit.perSecond / (raw.verify / sigs),
  });

  const b = new ChainBuilder({ backend: nodeBackend });
  const { manufacturer, distributor } = b.cast();
  const units = b.commissionMany(manufacturer, 10_000);
  const pallet = b.pack(manufacturer, makeSscc(ChainBuilder.MANUFACTURER_PREFIX, 1), units);
  b.ship(manufacturer, pallet, distributor);
  const palletBundle = b.bundle(pallet);
  const palletContext: VerifyContext = {
    purpose: 'receiving',
    party: distributor.gln,
    now: b.now(60_000),
  };
  const palletSigs = signatureCount(palletBundle);
  for (const mode of ['all', 'needed'] as const) {
    const start = performance.now();
    const r = verifyBundle(palletBundle, b.trust(), palletContext, {
      backend: nodeBackend,
      sha256: nodeSha256,
      receiptSignatures: mode,
    });
    const seconds = (performance.now() - start) / 1000;
    if (r.verdict !== 'accept')
      throw new Error(`pallet not accepted: ${JSON.stringify(r.reasons.slice(0, 3))}`);
    report(`10,000-unit pallet, one thread, receipt signatures '${mode}'`, seconds, 's', {
      to: `${palletSigs} raw verifies in one thread`,
      value: palletSigs / raw.verify / seconds,
    });
  }
}
