// `pnpm start` (DESIGN §8a): the issuer and the verifier (with the dock page)
// in one process, embedded PGlite under PROVENANT_DATA_DIR unless
// DATABASE_URL is set. Runs from source through tsx.
import { main } from '../services/issuer/src/main.js';
import { verifierMount } from '../services/verifier/src/index.js';

await main({ mounts: [verifierMount] });
