import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fromBase64, fromHex, toHex, utf8 } from './bytes.js';
import { nobleBackend, publicKeyFromSeed, verify } from './ed25519.js';
import type { Ed25519Backend } from './ed25519.js';
import { sha256 } from './hash.js';
import { nodeBackend } from './node/index.js';
import {
  MAX_NOTE_SIGNATURES,
  NoteError,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  addSignatureLines,
  cosignCheckpoint,
  encodeVerifierKey,
  formatCheckpoint,
  noteKeyId,
  noteVerifierKey,
  parseCheckpoint,
  parseSignedNote,
  parseVerifierKey,
  signCheckpoint,
  signNote,
  verifyCheckpoint,
  verifyCosignature,
  verifyNote,
  type Checkpoint,
  type NoteSigner,
} from './note.js';

// Known answers from golang.org/x/mod/sumdb/note (note_test.go).
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY_B64 = 'AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'; // 0x01 || seed
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
// transparency-dev/formats note_cosigv1_test.go: a native cosignature/v1 (0x04) vkey and an Ed25519 one.
const REMORA_COSIG_VKEY = 'remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2';
const TEST_ED_VKEY = 'TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6';

const peterSeed = fromBase64(PETER_SKEY_B64)!.slice(1);
const peterKey = parseVerifierKey(PETER_VKEY);
const enochKey = parseVerifierKey(ENOCH_VKEY);

const seedOf = (label: string) => sha256(utf8(label));
const signer = (name: string): NoteSigner => ({ name, seed: seedOf(name) });
const keyOf = (s: NoteSigner, type: 'ed25519' | 'cosignature/v1' = 'ed25519') =>
  noteVerifierKey(s.name, publicKeyFromSeed(s.seed), type);

function thrownCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof NoteError ? e.code : `not a NoteError: ${String(e)}`;
  }
  return 'no error';
}

describe('verifier keys and key IDs (signed-note §Signatures, §Verifier keys)', () => {
  it('parses the sumdb PeterNeumann vkey to its published key ID', () => {
    expect(peterKey.name).toBe('PeterNeumann');
    expect(toHex(peterKey.keyId)).toBe('c74f20a3');
    expect(peterKey.type).toBe('ed25519');
    expect(toHex(enochKey.keyId)).toBe('af0cfe78');
  });

  it('derives the PeterNeumann public key and key ID from the published signer seed', () => {
    const pub = publicKeyFromSeed(peterSeed);
    expect(toHex(pub)).toBe(toHex(peterKey.publicKey));
    expect(toHex(noteKeyId('PeterNeumann', pub, SIG_TYPE_ED25519))).toBe('c74f20a3');
    expect(encodeVerifierKey('PeterNeumann', pub)).toBe(PETER_VKEY);
  });

  it('parses transparency-dev vkeys of both types and re-encodes them byte for byte', () => {
    const remora = parseVerifierKey(REMORA_COSIG_VKEY);
    expect(remora).toMatchObject({ name: 'remora.n621.de', type: 'cosignature/v1' });
    expect(toHex(remora.keyId)).toBe('da77ade7');
    expect(toHex(noteKeyId(remora.name, remora.publicKey, SIG_TYPE_COSIGNATURE_V1))).toBe(
      'da77ade7',
    );
    expect(encodeVerifierKey(remora.name, remora.publicKey, 'cosignature/v1')).toBe(
      REMORA_COSIG_VKEY,
    );
    const test = parseVerifierKey(TEST_ED_VKEY);
    expect(toHex(test.keyId)).toBe('7997405c');
    expect(encodeVerifierKey(test.name, test.publicKey)).toBe(TEST_ED_VKEY);
  });

  it('rejects every truncation and every single-character change of a vkey with a NoteError', () => {
    for (let i = 0; i <= PETER_VKEY.length; i++)
      for (let j = i + 1; j <= PETER_VKEY.length; j++) {
        if (i === 0 && j === PETER_VKEY.length) continue;
        const k = PETER_VKEY.slice(i, j);
        expect([k, thrownCode(() => parseVerifierKey(k))]).not.toEqual([k, 'no error']);
        expect(thrownCode(() => parseVerifierKey(k))).not.toMatch(/^not a NoteError/);
      }
    for (let i = 0; i < PETER_VKEY.length; i++) {
      const k =
        PETER_VKEY.slice(0, i) +
        String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1) +
        PETER_VKEY.slice(i + 1);
      expect([k, thrownCode(() => parseVerifierKey(k))]).not.toEqual([k, 'no error']);
    }
  });

  it('rejects a key of the wrong length and an unknown algorithm even with a matching key ID', () => {
    // Go's case: its trailing bits are not zero, which our strict base64 already refuses.
    expect(
      thrownCode(() =>
        parseVerifierKey(
          'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==',
        ),
      ),
    ).toBe('INVALID_VKEY');
    const long = new Uint8Array([1, ...peterKey.publicKey, 0]);
    const longId = toHex(sha256(new Uint8Array([...utf8('PeterNeumann\n'), ...long])).slice(0, 4));
    expect(
      thrownCode(() =>
        parseVerifierKey(`PeterNeumann+${longId}+${Buffer.from(long).toString('base64')}`),
      ),
    ).toBe('INVALID_KEY');
    expect(
      thrownCode(() =>
        parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
      ),
    ).toBe('UNKNOWN_KEY_TYPE');
    expect(
      thrownCode(() => parseVerifierKey('rekor.sigstore.dev+00000000+' + PETER_VKEY.split('+')[2])),
    ).toBe('VKEY_HASH_MISMATCH');
    expect(thrownCode(() => parseVerifierKey('bananas.sigstore.dev+12344556'))).toBe(
      'INVALID_VKEY',
    );
  });

  it('refuses names with spaces or plus signs', () => {
    const pub = peterKey.publicKey;
    for (const name of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u2028b', 'a\tb'])
      expect([name, thrownCode(() => encodeVerifierKey(name, pub))]).toEqual([
        name,
        'INVALID_NAME',
      ]);
  });

  it('parseVerifierKey throws nothing but NoteError on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(thrownCode(() => parseVerifierKey(s))).not.toMatch(/^not a NoteError/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('signing and opening notes (known answers from sumdb/note)', () => {
  it('signs the PeterNeumann text to exactly the published note', () => {
    expect(signNote(TEXT, [{ name: 'PeterNeumann', seed: peterSeed }])).toBe(
      `${TEXT}\n${PETER_SIG}`,
    );
  });

  it('verifies the signature of a trusted key and ignores one from an unknown key', () => {
    const r = verifyNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peterKey]);
    expect(r).toMatchObject({ ok: true, text: TEXT, verifiedBy: ['PeterNeumann'] });
  });

  it('verifies both signatures when both keys are trusted', () => {
    const r = verifyNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peterKey, enochKey]);
    expect(r).toMatchObject({ ok: true, verifiedBy: ['PeterNeumann', 'EnochRoot'] });
  });

  it('rejects a note with no signature from a trusted key as UNVERIFIED', () => {
    expect(verifyNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [])).toMatchObject({
      ok: false,
      code: 'UNVERIFIED',
    });
  });

  it('ignores signatures that share only the name or only the key ID of a trusted key', () => {
    const sameName = '— PeterNeumann AAAAAAAAAAAA\n';
    const sameId = PETER_SIG.replace('PeterNeumann', 'CarmenSandiego');
    expect(verifyNote(`${TEXT}\n${sameName}${sameId}${PETER_SIG}`, [peterKey])).toMatchObject({
      ok: true,
    });
    expect(verifyNote(`${TEXT}\n${sameName}${sameId}`, [peterKey])).toMatchObject({
      ok: false,
      code: 'UNVERIFIED',
    });
  });

  it('rejects the whole note when a trusted key has an invalid signature', () => {
    const bad = PETER_SIG.slice(0, 60) + 'ABCD' + PETER_SIG.slice(60);
    expect(verifyNote(`${TEXT}\n${bad}`, [peterKey])).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
    });
    expect(verifyNote(`${TEXT}\n${PETER_SIG}${bad}`, [peterKey])).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
    });
  });

  it('accepts repeated signature lines and reports each key once', () => {
    const r = verifyNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}`, [peterKey]);
    expect(r).toMatchObject({ ok: true, verifiedBy: ['PeterNeumann'] });
  });

  it('reports two trusted keys with one name and key ID as AMBIGUOUS_KEY', () => {
    expect(verifyNote(`${TEXT}\n${ENOCH_SIG}`, [enochKey, peterKey, enochKey])).toMatchObject({
      ok: false,
      code: 'AMBIGUOUS_KEY',
    });
  });

  it(`rejects more than ${MAX_NOTE_SIGNATURES} signatures as malformed`, () => {
    const many = `${TEXT}\n${PETER_SIG.repeat(MAX_NOTE_SIGNATURES + 1)}`;
    expect(verifyNote(many, [peterKey])).toMatchObject({ ok: false, code: 'MALFORMED_NOTE' });
    expect(verifyNote(`${TEXT}\n${PETER_SIG.repeat(16)}`, [peterKey])).toMatchObject({ ok: true });
  });

  it.each([
    ['no signature block', TEXT],
    ['an empty signature block', `${TEXT}\n`],
    ['a signature line without newline', `${TEXT}\n${PETER_SIG.slice(0, -1)}`],
    ['a control character', `\x01${TEXT}\n${PETER_SIG}`],
    ['a carriage return', `${TEXT.replace('\n', '\r\n')}\n${PETER_SIG}`],
    ['a lone surrogate', `\ud800${TEXT}\n${PETER_SIG}`],
    [
      'a name with a space',
      `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
    ],
    ['an unexpected line after the signatures', `${TEXT}\n${PETER_SIG}Unexpected line.\n`],
    ['a hyphen instead of the em dash', `${TEXT}\n${PETER_SIG.replace('—', '-')}`],
    ['a signature of only 4 bytes', `${TEXT}\n— PeterNeumann x08gow==\n`],
    ['unpadded base64', `${TEXT}\n${PETER_SIG.replace('=\n', '\n')}`],
    ['an empty name', `${TEXT}\n—  x08go/ZJkuBS9UG\n`],
  ])('rejects a note with %s as MALFORMED_NOTE, and parse throws NoteError', (_what, msg) => {
    expect(verifyNote(msg, [peterKey])).toMatchObject({ ok: false, code: 'MALFORMED_NOTE' });
    expect(thrownCode(() => parseSignedNote(msg))).toBe('MALFORMED_NOTE');
  });

  it('opens notes given as UTF-8 bytes and rejects invalid UTF-8', () => {
    expect(verifyNote(utf8(`${TEXT}\n${PETER_SIG}`), [peterKey])).toMatchObject({ ok: true });
    const bytes = Uint8Array.of(0xff, ...utf8(`${TEXT}\n${PETER_SIG}`));
    expect(verifyNote(bytes, [peterKey])).toMatchObject({ ok: false, code: 'MALFORMED_NOTE' });
  });

  it('separates the text at the last blank line, so the text may hold blank lines', () => {
    const s = signer('example.com/a');
    const text = 'Note\n\nwith a gap\n\n';
    const note = signNote(text, [s]);
    expect(parseSignedNote(note).text).toBe(text);
    expect(verifyNote(note, [keyOf(s)])).toMatchObject({ ok: true, text });
  });

  it('parses the signed-note and tlog-cosignature spec examples', () => {
    const quasimodo = parseSignedNote(
      'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n' +
        '— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n',
    );
    expect(quasimodo.text.endsWith('ed è subito sera.\n')).toBe(true);
    expect(quasimodo.signatures).toHaveLength(1);
    expect(quasimodo.signatures[0]!.signature).toHaveLength(64);

    const sofa = parseSignedNote(
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n' +
        '— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n' +
        '— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n',
    );
    const cosig = sofa.signatures[1]!;
    expect(cosig.name).toBe('witness.example.com/w1');
    expect(toHex(cosig.keyId)).toBe('8d66cf3f');
    expect(cosig.signature).toHaveLength(8 + 64);
    // The spec's signed-message example says "time 1679315147".
    expect(parseInt(toHex(cosig.signature.slice(0, 8)), 16)).toBe(1679315147);
    expect(parseCheckpoint(sofa.text)).toMatchObject({
      origin: 'example.com/behind-the-sofa',
      size: 20852163,
    });
  });

  it('refuses to sign text without a final newline or with control characters', () => {
    const s = signer('a');
    expect(thrownCode(() => signNote('abc', [s]))).toBe('INVALID_TEXT');
    expect(thrownCode(() => signNote('a\tb\n', [s]))).toBe('INVALID_TEXT');
    expect(thrownCode(() => signNote('abc\n', [{ name: 'bad name', seed: s.seed }]))).toBe(
      'INVALID_NAME',
    );
  });

  it('never throws from verifyNote, and parseSignedNote throws only NoteError, on arbitrary input', () => {
    const line = fc.oneof(
      fc.string(),
      fc.constant(PETER_SIG.slice(0, -1)),
      fc.constant('— '),
      fc.string().map((s) => `— ${s}`),
    );
    const note = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.array(line, { maxLength: 6 }).map((ls) => ls.join('\n')),
      fc
        .tuple(fc.string(), fc.array(line, { maxLength: 4 }))
        .map(([t, ls]) => `${t}\n\n${ls.join('\n')}\n`),
    );
    fc.assert(
      fc.property(note, (msg) => {
        expect(() => verifyNote(msg, [peterKey, enochKey])).not.toThrow();
        expect(thrownCode(() => parseSignedNote(msg))).not.toMatch(/^not a NoteError/);
        expect(() =>
          verifyCheckpoint(msg, peterKey, { witnesses: [enochKey], minWitnesses: 1 }),
        ).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});

describe('checkpoint bodies (tlog-checkpoint §Note text)', () => {
  const root = sha256(utf8('root'));
  const cp: Checkpoint = {
    origin: 'provenant.example/log',
    size: 42,
    rootHash: root,
    extensions: [],
  };

  it('formats origin, size and base64 root hash, each newline-terminated', () => {
    expect(formatCheckpoint(cp)).toBe(
      `provenant.example/log\n42\n${Buffer.from(root).toString('base64')}\n`,
    );
    expect(formatCheckpoint({ ...cp, extensions: ['ext one', 'ext two'] })).toMatch(
      /\next one\next two\n$/,
    );
  });

  it('round-trips any checkpoint through format and parse', () => {
    const lineChars = fc
      .string({ minLength: 1 })
      .filter((s) => !/[\u0000-\u001f]|[\ud800-\udfff]/.test(s));
    fc.assert(
      fc.property(
        lineChars,
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(lineChars, { maxLength: 3 }),
        (origin, size, rootHash, extensions) => {
          const c = { origin, size, rootHash, extensions };
          const parsed = parseCheckpoint(formatCheckpoint(c));
          expect({ ...parsed, rootHash: toHex(parsed.rootHash) }).toEqual({
            ...c,
            rootHash: toHex(rootHash),
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  const b64root = Buffer.from(root).toString('base64');
  it.each([
    ['a size with a leading zero', `o\n042\n${b64root}\n`],
    ['a negative size', `o\n-1\n${b64root}\n`],
    ['a size with a plus sign', `o\n+1\n${b64root}\n`],
    ['a size with a space', `o\n 1\n${b64root}\n`],
    ['a fractional size', `o\n1.0\n${b64root}\n`],
    ['an empty size', `o\n\n${b64root}\n`],
    ['a size beyond 2^53 - 1', `o\n9007199254740992\n${b64root}\n`],
    ['a hex size', `o\n0x10\n${b64root}\n`],
    ['an empty origin', `\n1\n${b64root}\n`],
    ['a 31-byte root', `o\n1\n${Buffer.from(root.slice(1)).toString('base64')}\n`],
    ['an unpadded root', `o\n1\n${b64root.replace('=', '')}\n`],
    ['a base64url root', `o\n1\n${b64root.replace(/\+/g, '-').replace(/\//g, '_')}x\n`],
    ['no final newline', `o\n1\n${b64root}`],
    ['only two lines', `o\n1\n`],
    ['an empty extension line', `o\n1\n${b64root}\n\n`],
    ['an empty extension line between others', `o\n1\n${b64root}\na\n\nb\n`],
    ['a control character', `o\x07\n1\n${b64root}\n`],
  ])('rejects a body with %s', (_what, body) => {
    expect(thrownCode(() => parseCheckpoint(body))).toBe('MALFORMED_CHECKPOINT');
  });

  it('accepts size 0 and the largest safe size', () => {
    expect(parseCheckpoint(`o\n0\n${b64root}\n`).size).toBe(0);
    expect(parseCheckpoint(`o\n9007199254740991\n${b64root}\n`).size).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuses to format what it could not parse back', () => {
    for (const bad of [
      { ...cp, origin: '' },
      { ...cp, origin: 'a\nb' },
      { ...cp, size: -1 },
      { ...cp, size: 1.5 },
      { ...cp, size: 2 ** 53 },
      { ...cp, rootHash: root.slice(1) },
      { ...cp, extensions: [''] },
      { ...cp, extensions: ['a\nb'] },
    ])
      expect(thrownCode(() => formatCheckpoint(bad))).toBe('MALFORMED_CHECKPOINT');
  });

  it('parseCheckpoint throws nothing but NoteError on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(thrownCode(() => parseCheckpoint(s))).not.toMatch(/^not a NoteError/);
      }),
    );
  });
});

const backends: [string, Ed25519Backend][] = [
  ['noble', nobleBackend],
  ['node', nodeBackend],
];

describe.each(backends)(
  'signed checkpoints and cosignatures with the %s backend',
  (_name, backend) => {
    const log = signer('provenant.example/log');
    const logKey = keyOf(log);
    const [w1, w2, w3] = ['w1.example', 'w2.example', 'w3.example'].map(signer) as [
      NoteSigner,
      NoteSigner,
      NoteSigner,
    ];
    const [k1, k2, k3] = [w1, w2, w3].map((w) => keyOf(w, 'cosignature/v1')) as [
      ReturnType<typeof keyOf>,
      ReturnType<typeof keyOf>,
      ReturnType<typeof keyOf>,
    ];
    const cp: Checkpoint = {
      origin: 'provenant.example/log',
      size: 1234,
      rootHash: sha256(utf8('some root')),
      extensions: [],
    };
    const signed = signCheckpoint(cp, log, backend);
    const T = 1_767_225_600;

    it('verifies a checkpoint signed by the log key and returns its fields', () => {
      expect(signed.startsWith(`${formatCheckpoint(cp)}\n— provenant.example/log `)).toBe(true);
      const r = verifyCheckpoint(signed, logKey, { origin: cp.origin, backend });
      expect(r.ok).toBe(true);
      if (r.ok) {
        expect(r.checkpoint).toMatchObject({ origin: cp.origin, size: 1234, extensions: [] });
        expect(toHex(r.checkpoint.rootHash)).toBe(toHex(cp.rootHash));
        expect(r.witnesses).toEqual([]);
      }
    });

    it('rejects a checkpoint with any single character changed', () => {
      for (let i = 0; i < signed.length - 1; i++) {
        const c = signed[i] === 'A' ? 'B' : 'A';
        const tampered = signed.slice(0, i) + c + signed.slice(i + 1);
        if (tampered === signed) continue;
        const r = verifyCheckpoint(tampered, logKey, { backend });
        expect([i, r.ok]).toEqual([i, false]);
      }
    });

    it('rejects tampering with origin, size, root and added extension lines, as SIGNATURE_INVALID', () => {
      const sigBlock = signed.slice(formatCheckpoint(cp).length);
      for (const body of [
        formatCheckpoint({ ...cp, origin: 'evil.example/log' }),
        formatCheckpoint({ ...cp, size: 1235 }),
        formatCheckpoint({ ...cp, rootHash: sha256(utf8('other root')) }),
        formatCheckpoint({ ...cp, extensions: ['injected'] }),
      ])
        expect(verifyCheckpoint(body + sigBlock, logKey, { backend })).toMatchObject({
          ok: false,
          code: 'SIGNATURE_INVALID',
        });
    });

    it('reports a checkpoint signed by another key as LOG_SIGNATURE_MISSING', () => {
      const other = signCheckpoint(cp, signer('provenant.example/log-impostor'), backend);
      expect(verifyCheckpoint(other, logKey, { backend })).toMatchObject({
        ok: false,
        code: 'LOG_SIGNATURE_MISSING',
      });
      // Same name, different key: the key ID differs, so the line is ignored.
      const sameName = signCheckpoint(cp, { name: log.name, seed: seedOf('impostor') }, backend);
      expect(verifyCheckpoint(sameName, logKey, { backend })).toMatchObject({
        ok: false,
        code: 'LOG_SIGNATURE_MISSING',
      });
    });

    it('rejects a wrong origin and a signed body that is not a checkpoint', () => {
      expect(verifyCheckpoint(signed, logKey, { origin: 'other/log', backend })).toMatchObject({
        ok: false,
        code: 'ORIGIN_MISMATCH',
      });
      const notCheckpoint = signNote('provenant.example/log\n01\nxyz\n', [log], backend);
      expect(verifyCheckpoint(notCheckpoint, logKey, { backend })).toMatchObject({
        ok: false,
        code: 'MALFORMED_CHECKPOINT',
      });
    });

    it('produces a cosignature/v1 line: key ID, big-endian timestamp, Ed25519 over the cosigned message', () => {
      const line = cosignCheckpoint(signed, w1, T, backend);
      expect(line).toMatch(/^— w1\.example [A-Za-z0-9+/]+=*\n$/);
      expect(cosignCheckpoint(formatCheckpoint(cp), w1, T, backend)).toBe(line); // note or bare body
      const payload = fromBase64(line.slice('— w1.example '.length, -1))!;
      expect(payload).toHaveLength(4 + 8 + 64);
      expect(toHex(payload.slice(0, 4))).toBe(toHex(k1.keyId));
      expect(toHex(payload.slice(4, 12))).toBe(T.toString(16).padStart(16, '0'));
      const message = utf8(`cosignature/v1\ntime ${T}\n${formatCheckpoint(cp)}`);
      expect(verify(payload.slice(12), message, k1.publicKey, backend)).toBe(true);
      // Type 0x04 key ID: SHA-256(name || 0x0A || 0x04 || key)[:4], distinct from the 0x01 one.
      expect(toHex(k1.keyId)).toBe(
        toHex(sha256(new Uint8Array([...utf8('w1.example\n'), 4, ...k1.publicKey])).slice(0, 4)),
      );
      expect(toHex(k1.keyId)).not.toBe(toHex(keyOf(w1).keyId));
    });

    it('verifies a cosignature line and returns its timestamp; rejects it for another body, key or time', () => {
      const line = cosignCheckpoint(signed, w1, T, backend);
      expect(verifyCosignature(signed, line, k1, backend)).toEqual({ ok: true, timestamp: T });
      expect(verifyCosignature(formatCheckpoint(cp), line.trimEnd(), k1, backend)).toEqual({
        ok: true,
        timestamp: T,
      });
      expect(
        verifyCosignature(formatCheckpoint({ ...cp, size: 1 }), line, k1, backend),
      ).toMatchObject({
        ok: false,
        code: 'SIGNATURE_INVALID',
      });
      expect(verifyCosignature(signed, line, k2, backend)).toMatchObject({
        ok: false,
        code: 'UNVERIFIED',
      });
      expect(verifyCosignature(signed, line, keyOf(w1), backend)).toMatchObject({
        ok: false,
        code: 'UNVERIFIED',
      });
      const payload = fromBase64(line.slice('— w1.example '.length, -1))!;
      payload[11]! ^= 1; // timestamp + 1
      const shifted = `— w1.example ${Buffer.from(payload).toString('base64')}`;
      expect(verifyCosignature(signed, shifted, k1, backend)).toMatchObject({
        ok: false,
        code: 'SIGNATURE_INVALID',
      });
      expect(verifyCosignature('not a checkpoint', line, k1, backend)).toMatchObject({
        ok: false,
        code: 'MALFORMED_CHECKPOINT',
      });
      expect(verifyCosignature(signed, 'garbage', k1, backend)).toMatchObject({
        ok: false,
        code: 'MALFORMED_NOTE',
      });
    });

    it('covers extension lines in the cosigned message (tlog-cosignature §Ed25519 signed message)', () => {
      const withExt = signCheckpoint({ ...cp, extensions: ['ext'] }, log, backend);
      const line = cosignCheckpoint(withExt, w1, T, backend);
      expect(verifyCosignature(withExt, line, k1, backend)).toMatchObject({ ok: true });
      expect(verifyCosignature(signed, line, k1, backend)).toMatchObject({
        ok: false,
        code: 'SIGNATURE_INVALID',
      });
    });

    it('enforces a k-of-n witness policy over distinct trusted witnesses', () => {
      const cosigned = addSignatureLines(signed, [
        cosignCheckpoint(signed, w1, T, backend),
        cosignCheckpoint(signed, w2, T + 5, backend),
        cosignCheckpoint(signed, w2, T + 5, backend), // duplicate line, dropped
        cosignCheckpoint(signed, signer('untrusted.example'), T, backend), // unknown, ignored
      ]);
      expect(parseSignedNote(cosigned).signatures).toHaveLength(4);
      const witnesses = [k1, k2, k3];
      const two = verifyCheckpoint(cosigned, logKey, { witnesses, minWitnesses: 2, backend });
      expect(two).toMatchObject({
        ok: true,
        witnesses: ['w1.example', 'w2.example'],
        cosignatures: [
          { name: 'w1.example', timestamp: T },
          { name: 'w2.example', timestamp: T + 5 },
        ],
      });
      expect(
        verifyCheckpoint(cosigned, logKey, { witnesses, minWitnesses: 3, backend }),
      ).toMatchObject({
        ok: false,
        code: 'WITNESS_QUORUM_NOT_MET',
      });
      // The same witness signing twice (two timestamps) still counts once.
      const twice = addSignatureLines(cosigned, [cosignCheckpoint(signed, w1, T + 9, backend)]);
      expect(
        verifyCheckpoint(twice, logKey, { witnesses, minWitnesses: 3, backend }),
      ).toMatchObject({
        ok: false,
        code: 'WITNESS_QUORUM_NOT_MET',
      });
      expect(
        verifyCheckpoint(twice, logKey, { witnesses, minWitnesses: 2, backend }),
      ).toMatchObject({ ok: true });
      // Witness signatures alone do not stand in for the log's.
      const onlyWitnesses = `${formatCheckpoint(cp)}\n${cosignCheckpoint(signed, w1, T, backend)}`;
      expect(verifyCheckpoint(onlyWitnesses, logKey, { witnesses, backend })).toMatchObject({
        ok: false,
        code: 'LOG_SIGNATURE_MISSING',
      });
      // A bad policy number fails closed.
      expect(
        verifyCheckpoint(cosigned, logKey, { witnesses, minWitnesses: -1, backend }),
      ).toMatchObject({ ok: false });
    });

    it('rejects the checkpoint when a trusted witness cosignature is invalid', () => {
      const forged = cosignCheckpoint(formatCheckpoint({ ...cp, size: 99 }), w1, T, backend);
      const note = addSignatureLines(signed, [forged, cosignCheckpoint(signed, w2, T, backend)]);
      expect(
        verifyCheckpoint(note, logKey, { witnesses: [k1, k2], minWitnesses: 1, backend }),
      ).toMatchObject({
        ok: false,
        code: 'SIGNATURE_INVALID',
      });
    });

    it('accepts the largest safe timestamp and refuses a negative or fractional one', () => {
      const line = cosignCheckpoint(signed, w1, Number.MAX_SAFE_INTEGER, backend);
      expect(verifyCosignature(signed, line, k1, backend)).toEqual({
        ok: true,
        timestamp: Number.MAX_SAFE_INTEGER,
      });
      expect(thrownCode(() => cosignCheckpoint(signed, w1, -1, backend))).toBe('INVALID_TIMESTAMP');
      expect(thrownCode(() => cosignCheckpoint(signed, w1, 1.5, backend))).toBe(
        'INVALID_TIMESTAMP',
      );
      expect(thrownCode(() => cosignCheckpoint('o\n1\n', w1, T, backend))).toBe(
        'MALFORMED_CHECKPOINT',
      );
    });
  },
);

describe('appending signature lines', () => {
  it('refuses lines that are not signature lines', () => {
    const note = signNote('x\n', [signer('a')]);
    expect(thrownCode(() => addSignatureLines(note, ['hello']))).toBe('MALFORMED_SIGNATURE_LINE');
    expect(thrownCode(() => addSignatureLines(note, ['— a b\nc']))).toBe(
      'MALFORMED_SIGNATURE_LINE',
    );
    expect(thrownCode(() => addSignatureLines('x\n', []))).toBe('MALFORMED_NOTE');
  });
});

it('keeps the key ID of a name that is not ASCII as SHA-256 over its UTF-8 bytes', () => {
  const pub = fromHex('11'.repeat(32))!;
  const want = sha256(new Uint8Array([...utf8('café.example\n'), 1, ...pub])).slice(0, 4);
  expect(toHex(noteKeyId('café.example', pub, SIG_TYPE_ED25519))).toBe(toHex(want));
});
