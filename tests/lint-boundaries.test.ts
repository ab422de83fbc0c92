// The import boundaries `pnpm lint` enforces (eslint.config.js): core and gs1
// stay pure (no node: or bare Node builtins outside packages/core/src/node and
// tests), and no service imports another. Linted as text at the paths the rules
// are scoped to, with the same rule blocks the repository's config uses.
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
// @ts-expect-error -- a plain JS module without types: the repository's ESLint config
import { IMPORT_BOUNDARIES } from '../eslint.config.js';
import { REPO_ROOT, repoPath } from './support/paths.js';

const eslint = new ESLint({
  cwd: REPO_ROOT,
  overrideConfigFile: true,
  overrideConfig: [
    { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
    ...(IMPORT_BOUNDARIES as ESLint.Options['overrideConfig'][]),
  ] as ESLint.Options['overrideConfig'],
});

async function restricted(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: repoPath(file) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the import boundaries of pnpm lint', () => {
  it.each([
    ["import { readFileSync } from 'node:fs';"],
    ["import { createHash } from 'crypto';"],
    ["import { readFile } from 'fs/promises';"],
    ["export { join } from 'node:path';"],
  ])('refuse %s in packages/core/src and packages/gs1/src', async (code) => {
    expect(await restricted('packages/core/src/bytes.ts', code)).toHaveLength(1);
    expect(await restricted('packages/gs1/src/scan.ts', code)).toHaveLength(1);
  });

  it('allow Node builtins in packages/core/src/node, in tests and in the services', async () => {
    const code = "import { createHash } from 'node:crypto';";
    expect(await restricted('packages/core/src/node/index.ts', code)).toEqual([]);
    expect(await restricted('packages/gs1/src/scan.test.ts', code)).toEqual([]);
    expect(await restricted('services/issuer/src/seal.ts', code)).toEqual([]);
  });

  it.each([
    ['services/issuer/src/app.ts', "import { createVerifierDeps } from '@provenant/verifier';"],
    ['services/issuer/src/routes/chains.ts', "import { x } from '../../../verifier/src/deps.js';"],
    ['services/verifier/src/receipt.ts', "import { createApp } from '@provenant/issuer';"],
    [
      'services/verifier/src/routes/cases.ts',
      "import type { Config } from '../../../issuer/src/config.js';",
    ],
  ])('refuse a service importing another: %s', async (file, code) => {
    const messages = await restricted(file, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/No service imports another/);
  });

  it('let a service import the packages', async () => {
    const code =
      "import { parseScan } from '@provenant/gs1';\nimport { sha256 } from '@provenant/core';";
    expect(await restricted('services/verifier/src/receipt.ts', code)).toEqual([]);
    expect(await restricted('services/issuer/src/app.ts', code)).toEqual([]);
  });

  it('run with the type-aware no-floating-promises rule as an error in the repository config', async () => {
    const real = new ESLint({ cwd: REPO_ROOT });
    for (const file of [
      'services/issuer/src/app.ts',
      'packages/core/src/merkle.ts',
      'tests/cli.test.ts',
    ]) {
      const config = (await real.calculateConfigForFile(repoPath(file))) as {
        rules: Record<string, [number, ...unknown[]]>;
        languageOptions: { parserOptions: { projectService?: boolean } };
      };
      expect(config.rules['@typescript-eslint/no-floating-promises']![0]).toBe(2);
      expect(config.languageOptions.parserOptions.projectService).toBe(true);
    }
  });
});
