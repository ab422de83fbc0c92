// @provenant/cli: the `provenant` command (issue 5). `main` runs one
// invocation and resolves to its exit code; bin.ts calls it.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerAdminCommands } from './commands/admin.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerBulkCommands } from './commands/bulk.js';
import { registerEpcisCommands } from './commands/epcis.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerParseCommand } from './commands/parse.js';
import { registerRecordCommands } from './commands/records.js';
import { registerTrustCommands } from './commands/trust.js';
import { registerVerifyCommands } from './commands/verify.js';
import { registerWitnessCommand } from './commands/witness.js';
import { EXIT, processIo, type Io } from './io.js';
import type { ExitState } from './run.js';

export { EXIT, CliError } from './io.js';
export type { Io } from './io.js';
export { parseCommissionCsv, csvFields } from './commands/bulk.js';
export { trustProblem } from './commands/trust.js';
export { captureProgress } from './commands/epcis.js';
export type { Progress } from './progress.js';
export type { TrustFile } from './commands/trust.js';

const EXIT_HELP = `
Exit codes:
  0  success; verify: accept
  1  verify: quarantine; other commands: the server refused the request
  2  verify: reject; witness: ALARM (the log is inconsistent or badly signed)
  3  usage error, unreadable or invalid input, network failure

Environment:
  PROVENANT_URL    API base URL (--server)
  PROVENANT_TOKEN  bearer token (--token)
  DATABASE_URL, PROVENANT_DATA_DIR  the database of \`admin backup\` and \`admin restore\`
`;

/** This package's version, from its package.json (one level above src/ and dist/ alike). */
export const CLI_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** Builds the program; exit codes land in `state`. */
export function buildProgram(io: Io, state: ExitState): Command {
  const program = new Command('provenant')
    .description(
      'Provenant: sign custody records, verify products offline, watch the transparency log',
    )
    .version(CLI_VERSION, '-V, --version', 'print the version of provenant')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .exitOverride()
    .addHelpText('after', EXIT_HELP);
  registerKeyCommands(program, io, state);
  registerRecordCommands(program, io, state);
  registerBulkCommands(program, io, state);
  registerEpcisCommands(program, io, state);
  registerVerifyCommands(program, io, state);
  registerParseCommand(program, io, state);
  registerWitnessCommand(program, io, state);
  registerTrustCommands(program, io, state);
  registerAdminCommands(program, io, state);
  registerAuditCommand(program, io, state);
  // Subcommands throw usage errors through the same override instead of exiting.
  const override = (cmd: Command): void => {
    for (const c of cmd.commands) {
      c.exitOverride();
      c.configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
      override(c);
    }
  };
  override(program);
  return program;
}

/**
 * Runs the CLI on `argv` (process.argv form: node, script, args...) and
 * resolves to the exit code: never calls process.exit itself.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const state: ExitState = { code: EXIT.OK };
  const program = buildProgram(io, state);
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, `help` and --version exit 0; a missing command (help shown as an
      // error), an unknown option or a missing argument is a usage error.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    throw err;
  }
  return state.code;
}
