import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { CLI_VERSION, main } from './index.js';

const PACKAGE = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

async function run(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await main(['node', 'provenant', ...args], {
    stdout: (t) => void (stdout += t),
    stderr: () => undefined,
    stderrIsTty: false,
    env: {},
    now: () => new Date(),
  });
  return { code, stdout };
}

describe('provenant --version', () => {
  it.each([['--version'], ['-V']])(
    '%s prints the CLI package version and exits 0',
    async (flag) => {
      const { code, stdout } = await run([flag]);
      expect(code).toBe(0);
      expect(stdout.trim()).toBe(PACKAGE.version);
      expect(CLI_VERSION).toBe(PACKAGE.version);
      expect(PACKAGE.version).toMatch(/^\d+\.\d+\.\d+/);
    },
  );
});
