// Jest setupFilesAfterEnv (jest.config.js): a test fails when a response the
// service sent during it (or during its file's beforeAll) is not what the API
// description declares (tests/support/contract.ts, issue 9): answers of the
// apps the tests build, and those fetched from the service processes they
// spawn (tests/support/service-process.ts watches their origins).
import { afterAll, afterEach } from '@jest/globals';
import { checkFetchedResponses, settleFetchedChecks, takeViolations } from './contract.js';

checkFetchedResponses();

async function assertNoViolations(): Promise<void> {
  await settleFetchedChecks();
  const v = takeViolations();
  if (v.length > 0)
    throw new Error(
      `${v.length} response(s) outside the API description (/openapi.json):\n- ${v.join('\n- ')}`,
    );
}

afterEach(assertNoViolations);
afterAll(assertNoViolations);
