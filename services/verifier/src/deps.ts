// What the verifier's route modules need (DESIGN §7, §7b): the database (read
// the log and chains, write only verifications and cases), the public trust
// (the trust file `provenant trust export` writes: log origin and key,
// registry authority key, witnesses), the verifier's own key that signs
// verification receipts, the signature worker pool and an injectable clock.
// No master key and no key derivation: the verifier holds public keys only.
import type { Logger } from 'pino';
import {
  keyId,
  parseVerifierKey,
  publicKeyFromSeed,
  type Bundle,
  type Ed25519Backend,
  type Trust,
} from '@provenant/core';
import { nodeBackend, nodeSha256 } from '@provenant/core/node';
import {
  buildBundle,
  Coalescer,
  getUnitFactsMany,
  type Database,
  type Queryable,
  type UnitFacts,
  type UnitKey,
} from '@provenant/store';
import { tokenLookupFor, type AppConfig, type AppDeps } from '@provenant/server-kit';
import { PartyGate } from './gate.js';
import { CLONE_REVEALING_PURPOSES, insertVerifications, type NewVerification } from './store.js';
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
  /**
   * How far a record's time may lie before its receipt time (the issuer's
   * PROVENANT_MAX_BACKDATE, DESIGN §5); absent: the engine's 72 hours.
   */
  maxBackdateMs?: number;
}

export const DEFAULT_POLICY: VerifierPolicy = {
  maxBundleAgeSeconds: 86_400,
  receiptSignatures: 'needed',
  answerFrom: 'state',
};

/** The settings the verifier reads: the framework's, plus the issuer's backdating bound. */
export interface VerifierConfig extends AppConfig {
  /** PROVENANT_MAX_BACKDATE in ms, as the issuer enforces it; absent: the engine's 72 hours. */
  maxBackdateMs?: number;
}

/** Everything a verifier route module receives (besides openapi and logger). */
export interface VerifierDeps extends AppDeps<Database> {
  config: VerifierConfig;
  /** the log's origin line (PROVENANT_LOG_ORIGIN) */
  origin: string;
  /** the issuer's log key, authority key and witnesses (public keys only) */
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
  /** a unit's verified facts (getUnitFactsMany): concurrent requests' in one statement */
  unitFacts: (key: UnitKey) => Promise<UnitFacts>;
  /** stores a verification without an idempotency key: concurrent requests' in one statement */
  storeVerification: (v: NewVerification) => Promise<void>;
}

/** Default bound on a verification's wait for the monitor (DESIGN §7b), ms. */
export const DEFAULT_MONITOR_WAIT_MS = 2000;

export interface CreateVerifierDepsOptions {
  db: Database;
  config: VerifierConfig;
  /**
   * The public trust (PROVENANT_TRUST_FILE): the log's C2SP verifier key, the
   * registry authority key, witnesses and their quorum.
   */
  trust: Trust;
  /** The log's origin line; default: the name of `trust.logKey` (they are equal, DESIGN §6). */
  origin?: string;
  /** The 32-byte Ed25519 seed of the verifier's receipt key (PROVENANT_VERIFIER_KEY). */
  verifierSeed: Uint8Array;
  logger?: Logger;
  now?: () => number;
  /** Signature worker threads (default: one per core; 0 checks inline). */
  workers?: number;
  /** Verified signatures to remember (default DEFAULT_REMEMBERED; 0: none). */
  rememberSignatures?: number;
  policy?: Partial<VerifierPolicy>;
  /** Defaults to the store's buildBundle (what GET /v1/bundles/{subject} serves). */
  bundleSource?: BundleSource;
  /** Verifications a party may have waiting behind its running one (default DEFAULT_MAX_QUEUED). */
  maxQueuedPerParty?: number;
  /** Entries the monitor verifies per transaction (default DEFAULT_MONITOR_BATCH). */
  monitorBatch?: number;
  /** See VerifierDeps.monitorWaitMs. */
  monitorWaitMs?: number;
}

/** Misuse of the verifier's configuration (a seed of the wrong length, an unusable trust). */
export class VerifierConfigError extends Error {
  override readonly name = 'VerifierConfigError';
  readonly code = 'VERIFIER_CONFIG_INVALID' as const;
}

/**
 * The verifier's receipt key pair from its 32-byte seed.
 * @throws VerifierConfigError when the seed is not 32 bytes.
 */
export function verifierKeyOf(seed: Uint8Array): VerifierKey {
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new VerifierConfigError('the verifier key seed must be 32 bytes');
  const publicKey = publicKeyFromSeed(seed, nodeBackend);
  return { seed, publicKey, kid: keyId(publicKey) };
}

/** Only the fields the engine trusts, copied (a trust file may carry more). */
function engineTrust(t: Trust): Trust {
  return {
    logKey: t.logKey,
    authorityKey: t.authorityKey,
    ...(t.witnesses !== undefined ? { witnesses: t.witnesses } : {}),
    ...(t.minWitnesses !== undefined ? { minWitnesses: t.minWitnesses } : {}),
    ...(t.witnessQuorum !== undefined ? { witnessQuorum: t.witnessQuorum } : {}),
  };
}

/**
 * Builds the verifier's dependencies from public keys and its own receipt key
 * (DESIGN §7b: it never sees the master key). Call `deps.pool.close()` on shutdown.
 * @throws VerifierConfigError for a seed that is not 32 bytes or a log key that does not parse.
 */
export function createVerifierDeps(opts: CreateVerifierDepsOptions): VerifierDeps {
  const { db, config } = opts;
  let origin = opts.origin;
  try {
    origin ??= parseVerifierKey(opts.trust.logKey).name;
  } catch (err) {
    throw new VerifierConfigError(`the trust's logKey is not a C2SP verifier key: ${String(err)}`);
  }
  const verified = new VerifiedSignatures(opts.rememberSignatures ?? DEFAULT_REMEMBERED);
  const policy: VerifierPolicy = {
    ...DEFAULT_POLICY,
    ...(config.maxBackdateMs !== undefined ? { maxBackdateMs: config.maxBackdateMs } : {}),
    ...opts.policy,
  };
  const trust = engineTrust(opts.trust);
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
    origin,
    trust,
    verifierKey: verifierKeyOf(opts.verifierSeed),
    pool,
    backend,
    monitor: new LogMonitor({
      db,
      origin,
      trust,
      // each entry is verified once: nothing to remember (the engine's memory stays its own)
      signatureCheck: pool.checkOnce,
      backend,
      sha256: nodeSha256,
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.monitorBatch ? { batchSize: opts.monitorBatch } : {}),
      ...(policy.maxBackdateMs !== undefined ? { maxBackdateMs: policy.maxBackdateMs } : {}),
    }),
    monitorWaitMs: opts.monitorWaitMs ?? DEFAULT_MONITOR_WAIT_MS,
    now: opts.now ?? Date.now,
    policy,
    bundleSource: opts.bundleSource ?? buildBundle,
    sha256: nodeSha256,
    gate: new PartyGate(opts.maxQueuedPerParty),
    unitFacts: coalesced((keys: UnitKey[]) =>
      getUnitFactsMany(
        db,
        keys.map((k) => k.subject),
        keys.map((k) => k.gtin),
        keys.map((k) => k.party),
        CLONE_REVEALING_PURPOSES,
      ),
    ),
    storeVerification: coalesced(async (vs: NewVerification[]) => {
      await insertVerifications(db, vs);
      return vs.map(() => undefined);
    }),
  };
}

/**
 * `run` over concurrent calls, one statement for those waiting (store
 * Coalescer). One statement in flight: calls arriving meanwhile wait for
 * the next, so batches grow with load (bench verifier, 16 connections:
 * PostgreSQL 0.8 -> 0.6 ms and the service 1.6 -> 1.4 ms of CPU per
 * verification against two lanes). A party holds at most its gate's slots
 * of a batch, so a flood cannot keep another party out of the next one.
 */
function coalesced<T, R>(run: (items: T[]) => Promise<R[]>): (item: T) => Promise<R> {
  const c = new Coalescer(run, { lanes: 1 });
  return (item) => c.call(item);
}
