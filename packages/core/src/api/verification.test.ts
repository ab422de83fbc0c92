import { describe, expect, it } from '@jest/globals';
import { strictVerificationShapes, tolerantVerificationShapes } from './index.js';

const receipt = {
  v: 1,
  id: 'v1',
  subject: '01/09506000134352/21/A1',
  party: '0614141000005',
  purpose: 'receiving',
  verdict: 'accept',
  reasons: [],
  checkpoint: null,
  verifiedAt: '2026-11-28T12:00:00.000Z',
  nonce: null,
  kid: 'k',
  signature: 's',
};
const full = {
  id: 'v1',
  party: '0614141000005',
  purpose: 'receiving',
  verdict: 'quarantine',
  reasons: [{ code: 'RECALLED', message: 'lot recalled' }],
  subject: '01/09506000134352/21/A1',
  product: null,
  status: 'active',
  custodian: null,
  custody: [],
  checkpoint: null,
  verifiedAt: '2026-11-28T12:00:00.000Z',
  receipt,
};

describe('the shared verification shape', () => {
  const strict = strictVerificationShapes.verification;
  const tolerant = tolerantVerificationShapes.verification;

  it('takes what the server sends in both forms', () => {
    expect(strict.parse(full)).toEqual(full);
    expect(tolerant.parse(full)).toEqual(full);
  });

  it('is strict for the server: known codes and statuses only, every field it always sends', () => {
    const newCode = { ...full, reasons: [{ code: 'SOMETHING_NEW', message: 'x' }] };
    expect(strict.safeParse(newCode).success).toBe(false);
    expect(strict.safeParse({ ...full, status: 'teleported' }).success).toBe(false);
    const { receipt: _omitted, ...noReceipt } = full;
    expect(strict.safeParse(noReceipt).success).toBe(false);
  });

  it('is tolerant for clients: new codes, statuses and fields pass and are kept', () => {
    const newer = {
      ...full,
      status: 'teleported',
      reasons: [{ code: 'SOMETHING_NEW', severity: 3 }],
      extra: { added: 'later' },
    };
    expect(tolerant.parse(newer)).toEqual(newer);
    // The offline engine's result (no id, party, receipt) reads the same way.
    expect(tolerant.safeParse({ verdict: 'accept', reasons: [] }).success).toBe(true);
  });

  it('keeps the verdicts closed for everyone (clients act on them)', () => {
    expect(tolerant.safeParse({ ...full, verdict: 'maybe' }).success).toBe(false);
    expect(strict.safeParse({ ...full, verdict: 'maybe' }).success).toBe(false);
  });
});
