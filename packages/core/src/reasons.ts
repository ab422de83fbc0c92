// The closed union of verification reason codes (DESIGN §7). Every finding the
// engine, the issuer or the dock reports is one of these; nothing else.

export type Verdict = 'accept' | 'quarantine' | 'reject';

/** GS1 Lightweight Verification Messaging verificationFailureReason values. */
export type VrsReason =
  | 'Illegitimate'
  | 'Suspect'
  | 'No_match_GTIN_Serial'
  | 'No_match_GTIN_Serial_Lot'
  | 'No_match_GTIN_Serial_Expiry'
  | 'Expired'
  | 'Recalled';

export interface ReasonInfo {
  /** The verdict this finding forces at least. */
  readonly verdict: Exclude<Verdict, 'accept'>;
  /** VRS reason / additionalInfo, where the standard has one. */
  readonly vrs?: VrsReason;
  /** One line for a dock manager. */
  readonly description: string;
}

export const REASONS = {
  SIGNATURE_INVALID: {
    verdict: 'reject',
    vrs: 'Illegitimate',
    description: 'A signature does not verify: the record was forged or altered.',
  },
  KEY_UNKNOWN: {
    verdict: 'reject',
    vrs: 'Illegitimate',
    description: 'A record is signed with a key no registered party holds.',
  },
  KEY_NOT_AUTHORIZED: {
    verdict: 'reject',
    vrs: 'Illegitimate',
    description: "A record is signed with a key that is not the acting party's.",
  },
  KEY_REVOKED: {
    verdict: 'reject',
    vrs: 'Illegitimate',
    description: 'A record was logged after its signing key was reported compromised.',
  },
  CHAIN_BROKEN: {
    verdict: 'reject',
    vrs: 'Illegitimate',
    description: 'A record does not link to the one before it (prev or seq mismatch).',
  },
  CHAIN_FORK: {
    verdict: 'reject',
    vrs: 'Suspect',
    description: 'Two different records claim the same place in the chain: a likely clone.',
  },
  GENESIS_INVALID: {
    verdict: 'reject',
    vrs: 'Illegitimate',
    description: "The chain does not start with a valid commission by the product's manufacturer.",
  },
  CUSTODY_VIOLATION: {
    verdict: 'reject',
    vrs: 'Suspect',
    description: 'A record breaks the custody rules (acting without custody, wrong order).',
  },
  LOG_PROOF_INVALID: {
    verdict: 'reject',
    vrs: 'Illegitimate',
    description: 'A log receipt, inclusion proof or checkpoint does not verify.',
  },
  BUNDLE_DIVERGES: {
    verdict: 'reject',
    vrs: 'Suspect',
    description: 'The offline bundle differs from what the log holds.',
  },
  UNKNOWN_PRODUCT: {
    verdict: 'quarantine',
    vrs: 'No_match_GTIN_Serial',
    description: 'No chain exists for this GTIN and serial number.',
  },
  LOT_MISMATCH: {
    verdict: 'quarantine',
    vrs: 'No_match_GTIN_Serial_Lot',
    description: 'The scanned lot differs from the commissioned lot.',
  },
  EXPIRY_MISMATCH: {
    verdict: 'quarantine',
    vrs: 'No_match_GTIN_Serial_Expiry',
    description: 'The scanned expiry differs from the commissioned expiry.',
  },
  EXPIRED: {
    verdict: 'quarantine',
    vrs: 'Expired',
    description: 'The product is past its expiry date.',
  },
  RECALLED: {
    verdict: 'quarantine',
    vrs: 'Recalled',
    description: 'The product or its lot has been recalled by the manufacturer.',
  },
  DECOMMISSIONED: {
    verdict: 'quarantine',
    vrs: 'Suspect',
    description: 'The product was already dispensed, destroyed, exported or reported stolen.',
  },
  NOT_SHIPPED_TO_YOU: {
    verdict: 'quarantine',
    vrs: 'Suspect',
    description: 'The last shipment was addressed to another party: possible diversion.',
  },
  IN_QUARANTINE: {
    verdict: 'quarantine',
    vrs: 'Suspect',
    description: 'The product is on a suspect hold.',
  },
  PARTY_SUSPENDED: {
    verdict: 'quarantine',
    vrs: 'Suspect',
    description: 'A party in the chain is suspended (vendor-risk hold).',
  },
  DUPLICATE_SCAN: {
    verdict: 'quarantine',
    vrs: 'Suspect',
    description: 'The same serial was verified by another party since its last handoff.',
  },
  TIME_ANOMALY: {
    verdict: 'quarantine',
    vrs: 'Suspect',
    description: 'Record times go backwards or lie in the future.',
  },
  CHECKPOINT_STALE: {
    verdict: 'quarantine',
    description: 'The offline bundle is older than the policy allows.',
  },
  SUBJECT_MISMATCH: {
    verdict: 'reject',
    vrs: 'Illegitimate',
    description: 'The evidence is for another product than the one scanned.',
  },
} as const satisfies Record<string, ReasonInfo>;

export type ReasonCode = keyof typeof REASONS;

export const REASON_CODES = Object.keys(REASONS) as ReasonCode[];

export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && Object.hasOwn(REASONS, value);
}

const SEVERITY: Record<Verdict, number> = { accept: 0, quarantine: 1, reject: 2 };

/** The worst verdict forced by `codes` (accept when there are none). */
export function verdictOf(codes: Iterable<ReasonCode>): Verdict {
  let worst: Verdict = 'accept';
  for (const code of codes) {
    const v = REASONS[code].verdict;
    if (SEVERITY[v] > SEVERITY[worst]) worst = v;
  }
  return worst;
}
