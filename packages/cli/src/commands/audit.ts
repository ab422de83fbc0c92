// `provenant audit` (DESIGN §7b): asks the verifier to re-verify the whole log
// from index 0 against its stored verified state (POST /v1/verifier/audit,
// admin token). Anything found is an alarm: exit 2, each finding printed.
import type { Command } from 'commander';
import { withCommon } from '../common.js';
import { EXIT, type Io } from '../io.js';
import { action, type ExitState } from '../run.js';

export function registerAuditCommand(program: Command, io: Io, state: ExitState): void {
  withCommon(
    program
      .command('audit')
      .description(
        're-verify every log entry from index 0 against the verifier’s stored state (admin token); exit 2 when anything differs',
      ),
    'provenant audit --server https://provenant.example --token $PROVENANT_ADMIN_TOKEN',
  ).action(
    action(io, state, async (ctx) => {
      const report = await ctx.client().audit();
      ctx.out.result(report);
      const per100k =
        report.entriesPerSecond > 0 ? (100_000 / report.entriesPerSecond).toFixed(1) : '?';
      ctx.out.line(
        `audited ${report.size} entries in ${report.elapsedMs} ms (${report.entriesPerSecond}/s, ~${per100k} s per 100,000 entries)`,
      );
      for (const f of report.findings)
        ctx.out.line(`ALARM ${f.code} at ${f.index ?? 'log'}: ${f.message}`);
      for (const d of report.differences)
        ctx.out.line(`ALARM verified state of ${d.subject}: ${d.problem}`);
      const bad = report.findings.length + report.differences.length;
      if (bad === 0)
        ctx.out.line('no differences: every entry verifies and matches the verified state');
      return bad === 0 ? EXIT.OK : EXIT.ALARM;
    }),
  );
}
