// What the verifier's route modules need (DESIGN §7): the database (read the
// log and chains, write only verifications and cases), the trust policy (the
// issuer's log key and registry authority key, derived from the master key as
// the issuer derives them), the verifier key that signs verification receipts,
// the signature worker pool and an injectable clock.
import type { Logger } from 'pino';
import { toBase64Url, type Bundle, type Ed25519Backend, type Trust } from '@provenant/core';
import { nodeBackend, nodeSha256 } from '@provenant/core/node';
import type { Database, Queryable } from '@provenant/store';
// eslint-disable-next-line no-restricted-imports -- issue 15: the HTTP framework and key derivation the verifier shares move out of services/issuer
import {
  buildBundle,
  deriveLogKeys,
  deriveServiceKey,
  tokenLookupFor,
  type AppDeps,
  type Config,
} from '@provenant/issuer';
import { PartyGate } from './gate.js';
import type { VerifierKey } from './receipt.js';
import { DEFAULT_REMEMBERED, VerifiedSignatures } from './workers/memo.js';
import { SignaturePool } from './workers/pool.js';
import { LogMonitor } from './monitor/monitor.js';

/** Assembles the offline bundle of a subject from the log; null when it has no chain. */
export type BundleSource = (
  q: Queryable,
  origin: string,
  subject: string,
) => Promise<Bundle | null>;

/** Verification policy where DESIGN leaves the number open. */
export interface VerifierPolicy {
  /**
   * Oldest checkpoint accepted in a bundle presented by a shipper (POST
   * /v1/bundles/verify), in seconds; older is CHECKPOINT_STALE. Default 86,400 (one day).
   */
  maxBundleAgeSeconds: number;
  /**
   * Receipt signatures the engine checks (core VerifyOptions). 'needed' by
   * default: every leaf is still proved by its inclusion proof into the signed
   * checkpoint, and the engine still checks every receipt whose time can decide
   * a code (notices, the subject's own chains and containers, records signed by
   * a revoked or suspended key, receipts that would raise TIME_ANOMALY); the
   * others only repeat integratedAt. For a pallet it halves the signatures.
   */
  receiptSignatures: 'all' | 'needed';
  /**
   * DESIGN §7b: 'state' (default) answers a unit from the monitor's verified
   * state when it can (monitor/answer.ts), else the full engine; 'engine'
   * always rebuilds the bundle and runs the engine.
   */
  answerFrom: 'state' | 'engine';
}

export const DEFAULT_POLICY: VerifierPolicy = {
  maxBundleAgeSeconds: 86_400,
  receiptSignatures: 'needed',
  answerFrom: 'state',
};

/** Everything a verifier route module receives (besides openapi and logger). */
export interface VerifierDeps extends AppDeps<Database> {
  config: Config;
  /** the log's origin line (PROVENANT_LOG_ORIGIN) */
  origin: string;
  /** the issuer's log key and authority key */
  trust: Trust;
  /** signs verification receipts; served by GET /v1/verifier (public half only) */
  verifierKey: VerifierKey;
  /** worker threads for the engine's signature batches */
  pool: SignaturePool;
  /** node:crypto, with checks already done remembered (shared with `pool`) */
  backend: Ed25519Backend;
  /** milliseconds since the epoch; injectable for tests */
  now: () => number;
  policy: VerifierPolicy;
  bundleSource: BundleSource;
  /** node:crypto SHA-256 for the engine's leaf and node hashes */
  sha256: (bytes: Uint8Array) => Uint8Array;
  /** one verification at a time per party on this instance (flood isolation) */
  gate: PartyGate;
  /** the log monitor (DESIGN §7b): verified state the answers read */
  monitor: LogMonitor;
  /** how long a verification waits for the monitor to reach the log size seen at arrival, ms */
  monitorWaitMs: number;
}

/** Default bound on a verification's wait for the monitor (DESIGN §7b), ms. */
export const DEFAULT_MONITOR_WAIT_MS = 2000;

export interface CreateVerifierDepsOptions {
  db: Database;
  config: Config;
  logger?: Logger;
  now?: () => number;
  /** Signature worker threads (default: one per core; 0 checks inline). */
  workers?: number;
  /** Verified signatures to remember (default DEFAULT_REMEMBERED; 0: none). */
  rememberSignatures?: number;
  policy?: Partial<VerifierPolicy>;
  /** Defaults to the issuer's buildBundle (GET /v1/bundles/{subject}). */
  bundleSource?: BundleSource;
  /** Verifications a party may have waiting behind its running one (default DEFAULT_MAX_QUEUED). */
  maxQueuedPerParty?: number;
  /** Entries the monitor verifies per transaction (default DEFAULT_MONITOR_BATCH). */
  monitorBatch?: number;
  /** See VerifierDeps.monitorWaitMs. */
  monitorWaitMs?: number;
}

/**
 * Builds the verifier's dependencies. Keys are derived from `config.masterKey`
 * exactly as the issuer derives them (HKDF, DESIGN §6), so a verifier in the
 * same process or another process on the same master key trusts the same log.
 * Call `deps.pool.close()` on shutdown.
 * @throws KeyDerivationError for a master key that is not 32 bytes.
 */
export function createVerifierDeps(opts: CreateVerifierDepsOptions): VerifierDeps {
  const { db, config } = opts;
  const logKeys = deriveLogKeys(config.masterKey, config.logOrigin);
  const verified = new VerifiedSignatures(opts.rememberSignatures ?? DEFAULT_REMEMBERED);
  const authority = deriveServiceKey(config.masterKey, 'authority');
  const verifier = deriveServiceKey(config.masterKey, 'verifier');
  const trust: Trust = { logKey: logKeys.vkey, authorityKey: toBase64Url(authority.publicKey) };
  const pool = new SignaturePool({
    ...(opts.workers === undefined ? {} : { size: opts.workers }),
    verified,
  });
  const backend = verified.backend(nodeBackend);
  return {
    db,
    config,
    tokens: tokenLookupFor(db),
    ...(opts.logger ? { logger: opts.logger } : {}),
    origin: logKeys.origin,
    trust,
    verifierKey: { seed: verifier.seed, publicKey: verifier.publicKey, kid: verifier.kid },
    pool,
    backend,
    monitor: new LogMonitor({
      db,
      origin: logKeys.origin,
      trust,
      signatureCheck: pool.check,
      backend,
      sha256: nodeSha256,
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.monitorBatch ? { batchSize: opts.monitorBatch } : {}),
    }),
    monitorWaitMs: opts.monitorWaitMs ?? DEFAULT_MONITOR_WAIT_MS,
    now: opts.now ?? Date.now,
    policy: { ...DEFAULT_POLICY, ...opts.policy },
    bundleSource: opts.bundleSource ?? buildBundle,
    sha256: nodeSha256,
    gate: new PartyGate(opts.maxQueuedPerParty),
  };
}
