// The demo supply chain (DESIGN §8a "On its first start on an empty database
// the embedded mode seeds a demo supply chain"). Seeding goes through the
// public HTTP API with an admin token, so every party and key notice is
// signed by the authority key and sequenced into the log exactly as an
// operator's calls would be; nothing here writes to the database directly.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** File in PROVENANT_DATA_DIR holding the demo parties' tokens (mode 0600). */
export const DEMO_TOKENS_FILE = 'demo-tokens.json';

/** A demo party as registered through POST /v1/parties (DESIGN §8a roles). */
export interface DemoPartySpec {
  /** Short handle used by scripts/demo and the banner. */
  handle: 'manufacturer' | 'distributor' | 'pharmacy';
  gln: string;
  name: string;
  roles: string[];
  prefixes: string[];
}

// GLNs and the GTIN carry valid GS1 mod-10 check digits (DESIGN §3); the
// GTIN and SSCCs sit under Acme's company prefix 0614141 so Acme may
// commission them (DESIGN §5 commission rule).
export const DEMO_PARTIES: readonly DemoPartySpec[] = [
  {
    handle: 'manufacturer',
    gln: '0614141000005',
    name: 'Acme Pharma',
    roles: ['manufacturer'],
    prefixes: ['0614141'],
  },
  {
    handle: 'distributor',
    gln: '0860001000009',
    name: 'Northwind Distribution',
    roles: ['distributor'],
    // DESIGN §5: a distributor registers its company prefix to build pallets (SSCCs).
    prefixes: ['0860001'],
  },
  {
    handle: 'pharmacy',
    gln: '0860002000008',
    name: "St. Luke's Hospital Pharmacy",
    roles: ['dispenser'],
    prefixes: [],
  },
];

/** The demo product: GTIN-14 under Acme's prefix, one lot. */
export const DEMO_PRODUCT = {
  gtin: '00614141000012',
  lot: 'LOT2026A',
  expiry: '2028-12-31',
  product: { name: 'Amoxicillin 500 mg capsules, 30' },
};

/** Scopes of every demo party token (`keys`: register keys and manage its tokens, DESIGN §5). */
export const DEMO_SCOPES = ['sign', 'verify', 'keys'] as const;

/** A registered demo party with its custodial key and its (plaintext, shown once) token. */
export interface SeededParty extends DemoPartySpec {
  kid: string;
  token: string;
}

/** What seedDemo created. */
export interface DemoSeed {
  parties: SeededParty[];
  /** Units packed on the pallet (canonical subjects). */
  palletUnits: string[];
  /** The pallet shipped to the distributor (canonical subject). */
  pallet: string;
  shipment: string;
  /** A unit left in Acme's custody (a dock that scans it was not shipped it). */
  looseUnit: string;
}

/** An API call that did not answer as expected; carries the status and problem body. */
export class DemoApiError extends Error {
  readonly code = 'DEMO_API_ERROR';
  readonly status: number;
  readonly problem: unknown;
  constructor(method: string, path: string, status: number, problem: unknown) {
    const detail =
      problem && typeof problem === 'object' && 'detail' in problem
        ? String((problem as { detail: unknown }).detail)
        : '';
    super(`${method} ${path} answered ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'DemoApiError';
    this.status = status;
    this.problem = problem;
  }
}

/** A minimal JSON client over fetch for the seed and scripts/demo. */
export interface ApiClient {
  get<T = unknown>(path: string): Promise<T>;
  getText(path: string): Promise<string>;
  post<T = unknown>(path: string, body: unknown): Promise<T>;
}

/**
 * A client sending `Authorization: Bearer <token>` (if any) to `baseUrl`.
 * Non-2xx answers throw DemoApiError; the token never appears in an error.
 */
export function apiClient(
  baseUrl: string,
  token?: string,
  extraHeaders: Record<string, string> = {},
): ApiClient {
  const base = baseUrl.replace(/\/+$/, '');
  const headers = (json: boolean): Record<string, string> => ({
    ...extraHeaders,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(json ? { 'content-type': 'application/json' } : {}),
    accept: 'application/json, application/problem+json, text/plain',
  });
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const res = await fetch(base + path, {
      method,
      headers: headers(body !== undefined),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) {
      const text = await res.text();
      let problem: unknown = text;
      try {
        problem = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      throw new DemoApiError(method, path, res.status, problem);
    }
    return res;
  };
  return {
    get: async <T>(path: string) => (await (await call('GET', path)).json()) as T,
    getText: async (path: string) => (await call('GET', path)).text(),
    post: async <T>(path: string, body: unknown) =>
      (await (await call('POST', path, body)).json()) as T,
  };
}

/** An appended record as the custodial endpoints answer it (DESIGN §8a append response). */
export interface AppendedRecord {
  id: string;
  subject: string;
  seq: number;
  receipt?: unknown;
}

/**
 * The appended records of a custodial answer. The endpoints answer
 * `{records: [...]}` (or a bare array); each item is `{id, subject, seq, receipt}`.
 */
export function recordsOf(answer: unknown): AppendedRecord[] {
  const list = Array.isArray(answer)
    ? answer
    : answer &&
        typeof answer === 'object' &&
        Array.isArray((answer as { records?: unknown }).records)
      ? (answer as { records: unknown[] }).records
      : null;
  if (list === null) throw new Error('expected an answer with records');
  return list as AppendedRecord[];
}

/** GS1 mod-10 check digit (GS1 General Specifications §7.9.1). */
export function checkDigit(digits: string): string {
  let sum = 0;
  for (let i = digits.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(digits[i]) * w;
  return String((10 - (sum % 10)) % 10);
}

/** An SSCC subject under Acme's prefix: extension 0, prefix, 9-digit serial reference, check digit. */
export function demoSscc(serialRef: number): string {
  const body = `0${DEMO_PARTIES[0]!.prefixes[0]!}${String(serialRef).padStart(9, '0')}`;
  return `00/${body}${checkDigit(body)}`;
}

/** The canonical subject of a demo unit (serials are plain alphanumerics, nothing to escape). */
export function demoUnit(serial: string): string {
  return `01/${DEMO_PRODUCT.gtin}/21/${serial}`;
}

/**
 * Seeds the demo supply chain through the HTTP API at `baseUrl` with an
 * admin token: the three demo parties, a custodial key and a sign+verify+keys
 * token each, five units of the demo product, four of them packed on a
 * pallet shipped to the distributor, the fifth left with the manufacturer.
 * @throws DemoApiError when a call fails (e.g. a demo party already exists).
 */
export async function seedDemo(
  baseUrl: string,
  adminToken: string,
  /** Sent with every request (main.ts marks its own seeding so it is logged at debug). */
  extraHeaders: Record<string, string> = {},
): Promise<DemoSeed> {
  const admin = apiClient(baseUrl, adminToken, extraHeaders);
  const parties: SeededParty[] = [];
  for (const spec of DEMO_PARTIES) {
    const { handle: _handle, ...body } = spec;
    await admin.post('/v1/parties', body);
    const key = await admin.post<{ kid: string }>(`/v1/parties/${spec.gln}/keys`, {
      custodial: true,
    });
    const grant = await admin.post<{ token: string }>(`/v1/parties/${spec.gln}/tokens`, {
      scopes: [...DEMO_SCOPES],
    });
    parties.push({ ...spec, kid: key.kid, token: grant.token });
  }
  const [acme, northwind] = parties as [SeededParty, SeededParty, SeededParty];
  const mfr = apiClient(baseUrl, acme.token, extraHeaders);

  const serials = ['DEMO0001', 'DEMO0002', 'DEMO0003', 'DEMO0004', 'DEMO0005'];
  await mfr.post('/v1/commissions', {
    items: serials.map((serial) => ({
      gtin: DEMO_PRODUCT.gtin,
      serial,
      lot: DEMO_PRODUCT.lot,
      expiry: DEMO_PRODUCT.expiry,
      product: DEMO_PRODUCT.product,
    })),
  });
  const palletUnits = serials.slice(0, 4).map(demoUnit);
  const pallet = demoSscc(1);
  const shipment = 'SHP-DEMO-0001';
  await mfr.post('/v1/packs', { parent: pallet, children: palletUnits });
  await mfr.post('/v1/shipments', {
    subjects: [pallet],
    to: northwind.gln,
    shipment,
    transactions: [{ type: 'po', id: 'PO-DEMO-0001' }],
  });
  return { parties, palletUnits, pallet, shipment, looseUnit: demoUnit(serials[4]!) };
}

/** The demo tokens file's content. */
export interface DemoTokensFile {
  url: string;
  parties: Array<Pick<SeededParty, 'handle' | 'gln' | 'name' | 'kid' | 'token'>>;
}

/**
 * Writes `<dataDir>/demo-tokens.json` (mode 0600) so scripts/demo can act
 * as the demo parties after the banner is gone; returns its path.
 */
export function writeDemoTokens(dataDir: string, url: string, seed: DemoSeed): string {
  const file = join(dataDir, DEMO_TOKENS_FILE);
  // With DATABASE_URL nothing else may have created the data dir yet.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const content: DemoTokensFile = {
    url,
    parties: seed.parties.map(({ handle, gln, name, kid, token }) => ({
      handle,
      gln,
      name,
      kid,
      token,
    })),
  };
  writeFileSync(file, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** Reads `<dataDir>/demo-tokens.json`, or null when it does not exist. */
export function readDemoTokens(dataDir: string): DemoTokensFile | null {
  let text: string;
  try {
    text = readFileSync(join(dataDir, DEMO_TOKENS_FILE), 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    throw err;
  }
  return JSON.parse(text) as DemoTokensFile;
}
