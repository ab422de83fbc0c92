// Runs one command action: builds its context, maps every failure to a clear
// message (or a JSON error document under --json) and an exit code.
import type { Command } from 'commander';
import { Ctx, type CommonOptions } from './common.js';
import { describeError, EXIT, type Io } from './io.js';

/** An action: positional arguments, the command's options; resolves to the exit code. */
export type Action<O> = (
  ctx: Ctx,
  args: string[],
  opts: O & CommonOptions,
) => Promise<number | void>;

/** Holds the exit code of the run (commander actions return nothing). */
export interface ExitState {
  code: number;
}

/** Wraps `fn` as a commander action. */
export function action<O>(io: Io, state: ExitState, fn: Action<O>) {
  return async (...received: unknown[]): Promise<void> => {
    const command = received[received.length - 1] as Command;
    const opts = command.opts<O & CommonOptions>();
    const args = received
      .slice(0, -2)
      .flatMap((a) => (Array.isArray(a) ? (a as string[]) : [a as string]));
    const ctx = new Ctx(io, opts);
    try {
      state.code = (await fn(ctx, args, opts)) ?? EXIT.OK;
    } catch (err) {
      const d = describeError(err);
      if (ctx.out.json) io.stdout(`${JSON.stringify(d.json, null, 2)}\n`);
      else io.stderr(`${d.message.startsWith('error:') ? d.message : `error: ${d.message}`}\n`);
      state.code = d.exitCode;
    }
  };
}
