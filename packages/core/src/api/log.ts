// The log's answers (DESIGN §6, §8a): its identity, log receipts, entries,
// leaves, notices, RFC 9162 proofs and witness cosignatures. Strict and
// tolerant forms as shape.ts describes.
import { z } from 'zod';
import { shapeKit, type ShapeMode } from './shape.js';

/** The log's shapes in one mode. */
export function logShapes<M extends ShapeMode>(mode: M) {
  const { obj, oneOf, int } = shapeKit(mode);
  /** A log receipt (DESIGN §6): where and when an entry was integrated, signed by the log. */
  const logReceipt = obj({
    origin: z.string(),
    index: int,
    leafHash: z.string(),
    integratedAt: z.string(),
    signature: z.string(),
  });
  /** A DSSE envelope as the API carries it (DESIGN §4). */
  const envelope = obj({
    payloadType: z.string(),
    payload: z.string().meta({ description: 'standard base64 of the JCS record bytes' }),
    signatures: z.array(obj({ keyid: z.string(), sig: z.string() })),
  });
  const logInfo = obj({
    origin: z.string(),
    keyName: z.string(),
    publicKey: z.string().meta({ description: 'standard base64 of the raw 32-byte Ed25519 key' }),
    vkey: z.string().meta({ description: 'C2SP signed-note verifier key' }),
    authorityKey: z.string().optional().meta({
      description:
        'base64url raw Ed25519 key of the registry authority (signs party and key notices)',
    }),
  });
  const logEntries = obj({
    start: int,
    end: int,
    size: int,
    entries: z.array(
      obj({
        index: int,
        leafHash: z.string(),
        kind: oneOf(['record', 'notice']),
        id: z.string(),
        envelope: z.unknown(),
        integratedAt: z.string(),
        receipt: logReceipt,
      }),
    ),
  });
  const logLeaves = obj({
    start: int,
    end: int,
    size: int,
    leaves: z.array(z.string().meta({ description: 'hex SHA-256 leaf hash' })),
  });
  const logNotices = obj({
    notices: z.array(
      obj({
        index: int,
        leafHash: z.string(),
        id: z.string(),
        type: z.string(),
        envelope: z.unknown(),
        receipt: logReceipt,
      }),
    ),
    next: z.string().optional().meta({ description: 'pass as `after` for the next page' }),
  });
  const inclusionProof = obj({ index: int, size: int, proof: z.array(z.string()) });
  const consistencyProof = obj({ from: int, to: int, proof: z.array(z.string()) });
  const cosignatureResult = obj({
    size: int,
    witness: z.string(),
    keyId: z.string(),
    timestamp: int,
    stored: z.boolean(),
  });
  return {
    logReceipt,
    envelope,
    logInfo,
    logEntries,
    logLeaves,
    logNotices,
    inclusionProof,
    consistencyProof,
    cosignatureResult,
  };
}
