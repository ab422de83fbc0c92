// `pnpm start` (DESIGN §8a, issue 3 "The main command"): the issuer (and the
// verifier once it exists) in one process, embedded PGlite under
// PROVENANT_DATA_DIR unless DATABASE_URL is set. Runs from source through tsx.
import { main } from '../services/issuer/src/main.js';

await main();
