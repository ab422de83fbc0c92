// Jest setupFilesAfterEnv (jest.config.js): a test fails when a response the
// service sent during it (or during its file's beforeAll) is not what the API
// description declares (tests/support/contract.ts, issue 9).
import { afterAll, afterEach } from '@jest/globals';
import { takeViolations } from './contract.js';

function assertNoViolations(): void {
  const v = takeViolations();
  if (v.length > 0)
    throw new Error(
      `${v.length} response(s) outside the API description (/openapi.json):\n- ${v.join('\n- ')}`,
    );
}

afterEach(assertNoViolations);
afterAll(assertNoViolations);
