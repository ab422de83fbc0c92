// `pnpm bench`: every benchmark, printed as figures and ratios against the raw
// limits measured in the same run. Pass section names to run only some;
// `scale` (a log grown to 10^6 leaves, minutes) runs only when named.
import { runCoreBench } from './core.js';
import { runDurabilityBench } from './durability.js';
import { runEpcisQueryBench } from './epcis-query.js';
import { runEpcisBench } from './epcis.js';
import { runFloodBench } from './flood.js';
import { runMonitorBench } from './monitor.js';
import { runMonitorStateBench } from './monitor-state.js';
import { runScaleBench } from './scale.js';
import { runStoreBench } from './store.js';
import { runVerifierHttpBench } from './verifier-http.js';
import { runVerifyBench } from './verify.js';
import { runWebhooksBench } from './webhooks.js';

const sections: Record<string, () => void | Promise<void>> = {
  core: runCoreBench,
  issuer: runStoreBench,
  verify: runVerifyBench,
  verifier: runVerifierHttpBench,
  monitor: runMonitorBench,
  'monitor-state': runMonitorStateBench,
  durability: runDurabilityBench,
  flood: runFloodBench,
  webhooks: runWebhooksBench,
  epcis: runEpcisBench,
  'epcis-query': runEpcisQueryBench,
};
const OPT_IN: Record<string, () => Promise<void>> = { scale: runScaleBench };

const wanted = process.argv.slice(2);
for (const name of wanted)
  if (!(name in sections) && !(name in OPT_IN))
    throw new Error(
      `unknown section ${name}: ${[...Object.keys(sections), ...Object.keys(OPT_IN)].join(', ')}`,
    );
for (const [name, run] of Object.entries(sections)) {
  if (wanted.length === 0 || wanted.includes(name)) await run();
}
for (const [name, run] of Object.entries(OPT_IN)) if (wanted.includes(name)) await run();
