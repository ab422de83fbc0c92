// ESLint flat config (ESLint 10, typescript-eslint 8): type-aware TypeScript
// rules, and the import boundaries of STYLE.md: core and gs1 stay pure (no
// node: or bare Node builtins outside packages/core/src/node and tests), no
// package imports a service (STYLE.md 2), and no service imports another
// (DESIGN §7b, STYLE.md 8).
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/** Every Node builtin, bare (`fs`) and prefixed (`node:fs`), with subpaths (`fs/promises`). */
const NODE_BUILTINS = [
  ...new Set(builtinModules.flatMap((m) => [m, `${m}/*`, `node:${m}`, `node:${m}/*`])),
];

// Packages sit below the services (STYLE.md 2): none imports a service.
const PACKAGE_RULE = {
  patterns: [
    {
      group: [
        '@provenant/issuer',
        '@provenant/issuer/*',
        '@provenant/verifier',
        '@provenant/verifier/*',
        '**/services/**',
      ],
      message:
        'Packages sit below the services (STYLE.md 2): a package never imports services/issuer or services/verifier.',
    },
  ],
};

const PURE_PACKAGE_RULE = {
  patterns: [
    {
      group: ['node:*', ...NODE_BUILTINS],
      message:
        'core and gs1 are pure and browser-safe (STYLE.md 1): Node APIs live in packages/core/src/node or at the edges.',
    },
    ...PACKAGE_RULE.patterns,
  ],
};

const serviceRule = (other) => ({
  patterns: [
    {
      group: [
        `@provenant/${other}`,
        `@provenant/${other}/*`,
        `**/services/${other}`,
        `**/services/${other}/**`,
        `**/${other}/src`,
        `**/${other}/src/**`,
        `../${other}`,
        `../${other}/**`,
        `../../${other}`,
        `../../${other}/**`,
      ],
      message: `No service imports another (STYLE.md 8): what both need lives in a package, not in services/${other}.`,
    },
  ],
});

/** The import boundaries, per file glob (exported for tests/lint-boundaries.test.ts). */
export const IMPORT_BOUNDARIES = [
  {
    files: ['packages/core/src/**/*.ts', 'packages/gs1/src/**/*.ts'],
    ignores: ['packages/core/src/node/**', '**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', PURE_PACKAGE_RULE] },
  },
  {
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/core/src/**', 'packages/gs1/src/**'],
    rules: { 'no-restricted-imports': ['error', PACKAGE_RULE] },
  },
  {
    files: ['services/issuer/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', serviceRule('verifier')] },
  },
  {
    files: ['services/verifier/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', serviceRule('issuer')] },
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'coverage/**',
      'data/**',
      'testdata/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A promise nobody awaits loses its error: await it, or say `void` on purpose.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      'no-control-regex': 'off',
    },
  },
  ...IMPORT_BOUNDARIES,
);
