// One Jest config for every package: native ESM (node --experimental-vm-modules),
// TypeScript through @swc/jest, workspace packages resolved to their sources so
// tests never need a prior build.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/tests', '<rootDir>/scripts'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      },
    ],
  },
  moduleNameMapper: {
    '^@provenant/core/node$': '<rootDir>/packages/core/src/node/index.ts',
    '^@provenant/core/testing$': '<rootDir>/packages/core/src/testing/chain-builder.ts',
    '^@provenant/(core|gs1|store|sdk|cli|server-kit)$': '<rootDir>/packages/$1/src/index.ts',
    '^@provenant/(issuer|verifier)$': '<rootDir>/services/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  // Every response of an app watched by tests/support/contract.ts is checked against /openapi.json.
  setupFilesAfterEnv: ['<rootDir>/tests/support/contract-setup.ts'],
  testTimeout: 30000,
};
