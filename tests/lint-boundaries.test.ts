// The import boundaries `pnpm lint` enforces (eslint.config.js): core and gs1
// stay pure (no node: or bare Node builtins outside packages/core/src/node and
// tests), no package imports a service, and no service imports another. Linted
// as text at the paths the rules are scoped to, with the same rule blocks the
// repository's config uses; and the real service sources pass them with no
// exception (DESIGN §7b: the verifier imports nothing from services/issuer).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
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

/** Every .ts file under a repository directory, as repository-relative paths. */
function sources(dir: string): string[] {
  return readdirSync(repoPath(dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.split(/[\\/]/).includes('node_modules'))
    .map((f) => relative(REPO_ROOT, join(repoPath(dir), f)));
}

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
    ['services/issuer/src/issuer.ts', "import { createVerifierDeps } from '@provenant/verifier';"],
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

  it.each([
    ['packages/server-kit/src/app.ts', "import { Sequencer } from '@provenant/issuer';"],
    ['packages/store/src/bundles.ts', "import { VERIFIER_ROUTES } from '@provenant/verifier';"],
    ['packages/cli/src/index.ts', "import { x } from '../../../services/issuer/src/index.js';"],
    ['packages/core/src/verify.ts', "import type { Config } from '@provenant/issuer';"],
  ])('refuse a package importing a service: %s', async (file, code) => {
    const messages = await restricted(file, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/never imports services/);
  });

  it('let a service import the packages', async () => {
    const code =
      "import { parseScan } from '@provenant/gs1';\nimport { sha256 } from '@provenant/core';";
    expect(await restricted('services/verifier/src/receipt.ts', code)).toEqual([]);
    expect(await restricted('services/issuer/src/issuer.ts', code)).toEqual([]);
    const kit = "import { createApp } from '@provenant/server-kit';";
    expect(await restricted('services/verifier/src/verifier.ts', kit)).toEqual([]);
    expect(await restricted('services/issuer/src/issuer.ts', kit)).toEqual([]);
  });

  it('hold for every source of the services and packages, with no exception comment', async () => {
    const files = [...sources('services/verifier/src'), ...sources('services/issuer/src')];
    files.push(...sources('packages/server-kit/src'), ...sources('packages/store/src'));
    expect(files).toEqual(expect.arrayContaining(['services/verifier/src/deps.ts']));
    const offending: string[] = [];
    for (const file of files) {
      const text = readFileSync(repoPath(file), 'utf8');
      if (/eslint-disable[^\n]*no-restricted-imports/.test(text))
        offending.push(`${file}: disable comment`);
      for (const m of await restricted(file, text)) offending.push(`${file}: ${m}`);
    }
    expect(offending).toEqual([]);
  });

  it('keep @provenant/issuer out of the verifier package (the dock page bundles the SDK client)', () => {
    const pkg = JSON.parse(readFileSync(repoPath('services/verifier/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(
      Object.keys(pkg.dependencies)
        .filter((d) => d.startsWith('@provenant/'))
        .sort(),
    ).toEqual([
      '@provenant/core',
      '@provenant/gs1',
      '@provenant/sdk',
      '@provenant/server-kit',
      '@provenant/store',
    ]);
  });

  it('run with the type-aware no-floating-promises rule as an error in the repository config', async () => {
    const real = new ESLint({ cwd: REPO_ROOT });
    for (const file of [
      'services/issuer/src/issuer.ts',
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
