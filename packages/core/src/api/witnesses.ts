// Witnesses of the log (DESIGN §6): what GET /v1/witnesses lists. Strict and
// tolerant forms as shape.ts describes.
import { z } from 'zod';
import { shapeKit, type ShapeMode } from './shape.js';

/** The witness shapes in one mode. */
export function witnessShapes<M extends ShapeMode>(mode: M) {
  const { obj, sent } = shapeKit(mode);
  const witness = obj({
    name: z.string(),
    publicKey: z.string().meta({ description: 'base64url of the raw 32-byte Ed25519 key' }),
    keyId: sent(z.string().meta({ description: 'C2SP tlog-cosignature key id, hex (4 bytes)' })),
    createdAt: sent(z.string()),
  });
  const witnessList = obj({ witnesses: z.array(witness) });
  return { witness, witnessList };
}
