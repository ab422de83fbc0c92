#!/usr/bin/env node
// The `provenant` executable: runs the CLI and exits with its code (0/1/2/3).
import { main } from './index.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 3;
  },
);
