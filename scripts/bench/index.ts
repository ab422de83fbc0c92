// `pnpm bench`: every benchmark, printed as figures and ratios against the raw
// limits measured in the same run. Pass section names to run only some.
import { runCoreBench } from './core.js';
import { runDurabilityBench } from './durability.js';
import { runFloodBench } from './flood.js';
import { runStoreBench } from './store.js';
import { runVerifierHttpBench } from './verifier-http.js';
import { runVerifyBench } from './verify.js';
import { runWebhooksBench } from './webhooks.js';

const sections: Record<string, () => void | Promise<void>> = {
  core: runCoreBench,
  issuer: runStoreBench,
  verify: runVerifyBench,
  verifier: runVerifierHttpBench,
  durability: runDurabilityBench,
  flood: runFloodBench,
  webhooks: runWebhooksBench,
};

const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(sections)) {
  if (wanted.length === 0 || wanted.includes(name)) await run();
}
