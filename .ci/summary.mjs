// Prints Jest's totals as the closing line CI reads: "N passed, N failed[, N skipped]".
import { readFileSync } from 'node:fs';

let r;
try {
  r = JSON.parse(readFileSync(process.argv[2], 'utf8'));
} catch {
  console.log('0 passed, 1 failed');
  process.exit(0);
}
const skipped = r.numPendingTests + r.numTodoTests;
// A suite that fails to load has no failing tests of its own: count it as a failure.
const failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
console.log(
  `${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''),
);
