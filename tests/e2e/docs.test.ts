// GET /docs in a real browser (issue 9): Debian's Chromium driven by
// playwright-core against the issuer and verifier on 127.0.0.1. The page must
// render the API reference from /openapi.json with the bundle this service
// serves, under its Content-Security-Policy, without one request to another
// origin (fonts, telemetry, proxies) and without a CSP violation. Without
// /usr/bin/chromium the suite is skipped and says why; .ci/run installs it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { repoPath } from '../support/paths.js';
import { startTestWorld, type TestWorld } from '../support/verifier.js';

const CHROMIUM = process.env.PROVENANT_E2E_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SKIP_REASON = `skipped: ${CHROMIUM} is not installed (apt-get install chromium; .ci/run installs it)`;
if (!HAVE_CHROMIUM) console.warn(`tests/e2e/docs.test.ts: browser tests ${SKIP_REASON}`);
const suite = HAVE_CHROMIUM ? describe : describe.skip;
// Screenshots for review, not committed (like tests/e2e/dock.test.ts).
const SHOTS = repoPath('tests/e2e/screenshots');

suite(`the docs page in Chromium${HAVE_CHROMIUM ? '' : ` (${SKIP_REASON})`}`, () => {
  let world: TestWorld;
  let server: Server;
  let base: string;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    world = await startTestWorld({ workers: 0 });
    server = world.app.listen(0, '127.0.0.1');
    await new Promise<void>((ok) => server.once('listening', () => ok()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    profile = mkdtempSync(join(tmpdir(), 'docs-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-quic',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 800 },
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (server?.listening) {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    }
    await world?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  }, 60_000);

  it('renders the reference from /openapi.json with nothing from another origin and no CSP violation', async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    const elsewhere: string[] = [];
    const local: string[] = [];
    // Anything for another origin is refused here and recorded (the CSP would block it too).
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(base) || url.startsWith('data:') || url.startsWith('blob:')) {
        local.push(new URL(url).pathname);
        await route.continue();
      } else {
        elsewhere.push(url);
        await route.abort();
      }
    });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(`Refused to (CSP): ${e.violatedDirective} ${e.blockedURI}`),
      );
    });

    await page.goto(`${base}/docs`);
    // Operation summaries come from the document: the reference has loaded and rendered it.
    await page.getByText('Provenant API').first().waitFor();
    await page.getByText('Register a party', { exact: false }).first().waitFor();
    expect(local).toEqual(
      expect.arrayContaining(['/docs', '/docs/assets/api-reference.js', '/openapi.json']),
    );
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'docs.png') });
  }, 90_000);
});
