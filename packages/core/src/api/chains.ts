// A subject's chain and its offline bundle (DESIGN §5, §7, §8a). The bundle's
// evidence is judged by the verification engine itself (bundle.ts), so its
// envelopes stay opaque here. Strict and tolerant forms as shape.ts describes.
import { z } from 'zod';
import { logShapes } from './log.js';
import { shapeKit, type ShapeMode } from './shape.js';

/** Chain statuses (DESIGN §5 custody state machine). */
export const CHAIN_STATUSES = [
  'active',
  'in_transit',
  'contained',
  'decommissioned',
  'quarantined',
] as const;

/** The chain and bundle shapes in one mode. */
export function chainShapes<M extends ShapeMode>(mode: M) {
  const { obj, oneOf, int } = shapeKit(mode);
  const { logReceipt } = logShapes(mode);
  const chain = obj({
    subject: z.string(),
    status: oneOf(CHAIN_STATUSES),
    custodian: z.string().meta({
      description: 'effective custodian: a contained unit is held by its container’s custodian',
    }),
    records: z.array(
      obj({
        id: z.string(),
        seq: int,
        type: z.string(),
        actor: z.string(),
        time: z.string(),
        data: z.unknown(),
        envelope: z.unknown(),
        receipt: logReceipt,
      }),
    ),
  });
  const bundleEntry = obj({
    envelope: z.unknown(),
    receipt: logReceipt,
    proof: z.array(z.string()),
  });
  const bundle = obj({
    v: z.literal(1),
    subject: z.string(),
    checkpoint: z.string().meta({ description: 'C2SP signed note (with witness cosignatures)' }),
    chains: z.record(z.string(), z.array(bundleEntry)),
    notices: z.array(bundleEntry),
  });
  return { chain, bundleEntry, bundle };
}
