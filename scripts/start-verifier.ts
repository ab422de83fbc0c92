// `pnpm start:verifier` (DESIGN §7b): the verifier alone, on a PostgreSQL
// database (the primary or a streaming replica), with DATABASE_URL, PORT,
// PROVENANT_TRUST_FILE and PROVENANT_VERIFIER_KEY; exits 2 naming the
// variable when one is missing. Never reads PROVENANT_MASTER_KEY.
import { main } from '../services/verifier/src/main.js';

await main();
