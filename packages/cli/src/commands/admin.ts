// `provenant admin backup --out FILE` and `provenant admin restore FILE`
// (DESIGN §9). They run on the service's host against its database directly
// (DATABASE_URL, else the embedded PGlite in PROVENANT_DATA_DIR), not through
// an HTTP endpoint: a backup holds every sealed key and token hash, so it is
// only for whoever already holds the database, never one admin token away.
// PostgreSQL: pg_dump custom format, taken while the service runs. PGlite:
// the data directory tarball, with the service stopped (the data dir's lock
// refuses otherwise). The master key is not in the backup: keep it apart.
import { Option, type Command } from 'commander';
import {
  BackupError,
  backupDatabase,
  DatabaseUnavailableError,
  restoreDatabase,
} from '@provenant/store';
import { CliError, EXIT, type Io } from '../io.js';
import { action, type ExitState } from '../run.js';

interface AdminOptions {
  databaseUrl?: string;
  dataDir?: string;
  out?: string;
}

function withDatabase(cmd: Command, example: string): Command {
  return cmd
    .addOption(
      new Option('--database-url <url>', 'PostgreSQL connection string').env('DATABASE_URL'),
    )
    .addOption(
      new Option(
        '--data-dir <dir>',
        'embedded data directory when there is no DATABASE_URL (default ./data)',
      ).env('PROVENANT_DATA_DIR'),
    )
    .option('--json', 'print one JSON document for machines instead of text')
    .addHelpText('after', `\nExample:\n  ${example}\n`);
}

/** Backup and restore failures are the operator's to fix: exit 1 with the reason. */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof BackupError || err instanceof DatabaseUnavailableError)
      throw new CliError(err.message, EXIT.REFUSED, 'backup-failed');
    throw err;
  }
}

export function registerAdminCommands(program: Command, io: Io, state: ExitState): void {
  const admin = program
    .command('admin')
    .description('operator tasks on the service host: backup and restore of the database');

  withDatabase(
    admin
      .command('backup')
      .description(
        'back the database up: pg_dump custom format (PostgreSQL) or the PGlite data directory tarball (service stopped)',
      )
      .requiredOption('--out <file>', 'the backup file to write (mode 0600)'),
    'provenant admin backup --out provenant-2026-12-06.backup',
  ).action(
    action<AdminOptions>(io, state, async (ctx, _args, opts) => {
      const env = { DATABASE_URL: opts.databaseUrl, PROVENANT_DATA_DIR: opts.dataDir };
      const kind = await guarded(() => backupDatabase(env, opts.out!));
      ctx.out.line(
        `Backup written to ${opts.out} (${kind === 'pg_dump' ? 'pg_dump custom format' : 'PGlite data directory'}).`,
      );
      ctx.out.line(
        'The master key is not in it: keep PROVENANT_MASTER_KEY (or master.key) backed up apart.',
      );
      ctx.out.result({ file: opts.out, format: kind });
    }),
  );

  withDatabase(
    admin
      .command('restore')
      .description(
        'restore a backup into an empty database (a new PostgreSQL database, or a data directory without one)',
      )
      .argument('<file>', 'a file written by `provenant admin backup`'),
    'DATABASE_URL=postgres://127.0.0.1/provenant_new provenant admin restore provenant.backup',
  ).action(
    action<AdminOptions>(io, state, async (ctx, args, opts) => {
      const env = { DATABASE_URL: opts.databaseUrl, PROVENANT_DATA_DIR: opts.dataDir };
      const file = args[0]!;
      const kind = await guarded(() => restoreDatabase(env, file));
      ctx.out.line(
        `Restored ${file} (${kind === 'pg_dump' ? 'pg_dump custom format' : 'PGlite data directory'}).`,
      );
      ctx.out.line('Start the service with the master key of the backed-up instance.');
      ctx.out.result({ file, format: kind });
    }),
  );
}
