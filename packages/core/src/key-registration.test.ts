import { describe, expect, it } from '@jest/globals';
import { fromUtf8 } from './bytes.js';
import { generateKeyPair } from './ed25519.js';
import {
  keyRegistrationBody,
  keyRegistrationMessage,
  verifyKeyRegistration,
} from './key-registration.js';
import { fromBase64Url } from './bytes.js';

const GLN = '0614141000005';
const TIME = '2026-12-06T04:00:00.000Z';

describe('key registration proof of possession (DESIGN §5)', () => {
  it('signs the UTF-8 JCS of {gln, publicKey, purpose, time}, members in code point order', () => {
    expect(fromUtf8(keyRegistrationMessage(GLN, 'AAAA', TIME))).toBe(
      `{"gln":"${GLN}","publicKey":"AAAA","purpose":"provenant-key-registration","time":"${TIME}"}`,
    );
  });

  it('verifies a proof made for this party, key and time, and nothing else', () => {
    const pair = generateKeyPair();
    const body = keyRegistrationBody(GLN, pair.seed, pair.publicKey, TIME);
    const pk = fromBase64Url(body.publicKey)!;
    expect(verifyKeyRegistration(GLN, body.publicKey, pk, TIME, body.proof)).toBe(true);
    expect(verifyKeyRegistration('0614141000012', body.publicKey, pk, TIME, body.proof)).toBe(
      false,
    );
    expect(
      verifyKeyRegistration(GLN, body.publicKey, pk, '2026-12-06T04:00:01.000Z', body.proof),
    ).toBe(false);
    const other = generateKeyPair();
    expect(verifyKeyRegistration(GLN, body.publicKey, other.publicKey, TIME, body.proof)).toBe(
      false,
    );
    expect(verifyKeyRegistration(GLN, body.publicKey, pk, TIME, 'not-base64url!')).toBe(false);
    expect(verifyKeyRegistration(GLN, body.publicKey, pk, TIME, body.proof.slice(4))).toBe(false);
  });
});
