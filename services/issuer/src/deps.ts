// The issuer's route-module dependencies, in a module of their own so the
// route modules and the composition root (issuer.ts, which imports them) do
// not import each other.
import type { Database } from '@provenant/store';
import type { AppDeps } from '@provenant/server-kit';
import type { CustodialSigner } from './append/custodial.js';
import type { Config } from './config.js';
import type { LogKeys } from './log/keys.js';
import type { Sequencer } from './log/sequencer.js';

/** What every issuer route module receives (besides openapi and logger). */
export interface IssuerDeps extends AppDeps<Database> {
  config: Config;
  logKeys: LogKeys;
  authorityPublicKey: Uint8Array;
  sequencer: Sequencer;
  signer: CustodialSigner;
  /**
   * Milliseconds since the epoch: the clock of the sequencer and of the GS1
   * §7.12 century of label dates (the verifier reads scans with the same one).
   */
  now: () => number;
}
