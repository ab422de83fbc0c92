// `pnpm lint:openapi` (issue 9): writes the document `pnpm start` serves at
// /openapi.json to a temporary file and lints it with Redocly CLI
// (redocly.yaml: the recommended ruleset). Exit status: Redocly's (errors fail,
// warnings are reported). `--out FILE` writes the document there instead and
// does not lint.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceDocument } from './openapi-document.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const doc = JSON.stringify(await serviceDocument(), null, 2) + '\n';
const outAt = process.argv.indexOf('--out');
if (outAt !== -1) {
  const out = resolve(process.argv[outAt + 1] ?? 'openapi.json');
  writeFileSync(out, doc);
  process.stdout.write(`wrote ${out}\n`);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'provenant-openapi-'));
  const file = join(dir, 'openapi.json');
  try {
    writeFileSync(file, doc);
    const redocly = join(root, 'node_modules', '.bin', 'redocly');
    const r = spawnSync(
      redocly,
      ['lint', file, '--config', join(root, 'redocly.yaml'), '--format', 'stylish'],
      {
        stdio: 'inherit',
        cwd: root,
        // A lint is local: no usage report, no update check.
        env: {
          ...process.env,
          REDOCLY_TELEMETRY: 'off',
          REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
          REDOCLY_SUPPRESS_NOTIFICATIONS: 'true',
        },
      },
    );
    process.exitCode = r.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
