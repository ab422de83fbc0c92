// The registry's answers (DESIGN §5, §8a): parties, their keys (public parts
// only), tokens (never a secret but once, at issuance) and revocations.
// Strict and tolerant forms as shape.ts describes.
import { z } from 'zod';
import { shapeKit, type ShapeMode } from './shape.js';

/** The registry's shapes in one mode. */
export function registryShapes<M extends ShapeMode>(mode: M) {
  const { obj, sent, oneOf } = shapeKit(mode);
  const keyView = obj({
    kid: z.string(),
    publicKey: z.string(),
    status: oneOf(['active', 'revoked']),
    custodial: z.boolean(),
    createdAt: z.string(),
    compromisedAt: z.string().optional(),
    revokedAt: z.string().optional(),
  });
  const party = obj({
    gln: z.string(),
    name: z.string(),
    roles: z.array(z.string()),
    prefixes: z.array(z.string()),
    status: oneOf(['active', 'suspended']),
    keys: z.array(keyView),
  });
  const registeredKey = obj({ kid: z.string(), publicKey: z.string() });
  const issuedToken = obj({
    id: sent(z.string()),
    token: z.string().meta({ description: 'the bearer token, shown only in this answer' }),
    scopes: z.array(z.string()),
  });
  const tokenInfo = obj({
    id: z.string(),
    scopes: z.array(z.string()),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().optional(),
  });
  const tokenList = obj({ tokens: z.array(tokenInfo) });
  const revokedKey = obj({
    kid: z.string(),
    status: z.literal('revoked'),
    compromisedAt: z.string(),
  });
  return { keyView, party, registeredKey, issuedToken, tokenInfo, tokenList, revokedKey };
}
