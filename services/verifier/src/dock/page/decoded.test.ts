// The camera's decoder on the symbols a dock sees (issue 13): GS1 DataMatrix,
// GS1-128 and a QR code holding a GS1 Digital Link, drawn by bwip-js as PNG,
// read by zxing-wasm with the page's own options (its WebAssembly from
// node_modules, as the service serves it), and turned by scanOfDecoded into
// what parseScan reads: the same canonical subject each time.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import bwipjs from 'bwip-js';
import { prepareZXingModule, readBarcodes } from 'zxing-wasm/reader';
import { parseScan } from '@provenant/gs1';
import { CAMERA_FORMATS, scanOfDecoded } from './decoded.js';

const GTIN = '10614141000118';
const SUBJECT = `01/${GTIN}/21/U001`;

async function decode(bcid: string, text: string): Promise<string> {
  // White behind the bars: a transparent PNG reads as all black.
  const png = await bwipjs.toBuffer({
    bcid,
    text,
    scale: 4,
    paddingwidth: 10,
    paddingheight: 10,
    backgroundcolor: 'FFFFFF',
  });
  const [hit] = await readBarcodes(new Uint8Array(png), {
    formats: [...CAMERA_FORMATS],
    tryHarder: true,
    maxNumberOfSymbols: 1,
    textMode: 'Plain',
  });
  if (!hit?.isValid) throw new Error(`${bcid} not decoded`);
  return scanOfDecoded(hit.symbologyIdentifier, hit.text);
}

describe('camera decoding', () => {
  beforeAll(async () => {
    const wasm = createRequire(import.meta.url).resolve('zxing-wasm/reader/zxing_reader.wasm');
    await prepareZXingModule({
      overrides: { wasmBinary: readFileSync(wasm).buffer as ArrayBuffer },
      fireImmediately: true,
    });
  });

  it('reads a GS1 DataMatrix as ]d2 with a real GS after a variable-length field', async () => {
    const scan = await decode('gs1datamatrix', `(01)${GTIN}(10)LOT42(21)U001`);
    expect(scan).toBe(`]d201${GTIN}10LOT42\x1d21U001`);
    expect(parseScan(scan)).toMatchObject({ subject: SUBJECT, lot: 'LOT42' });
  });

  it('reads a GS1-128 as ]C1', async () => {
    const scan = await decode('gs1-128', `(01)${GTIN}(17)300630(21)U001`);
    expect(scan.startsWith(']C1')).toBe(true);
    expect(parseScan(scan)).toMatchObject({ subject: SUBJECT, expiry: '2030-06-30' });
  });

  it('reads a QR code holding a GS1 Digital Link', async () => {
    const scan = await decode('qrcode', `https://id.example.com/01/${GTIN}/21/U001`);
    expect(scan).toMatch(/^\]Q1https:\/\/id\.example\.com\//);
    expect(parseScan(scan).subject).toBe(SUBJECT);
  });

  it('keeps a decode without a symbology identifier as its text', () => {
    expect(scanOfDecoded('', `01${GTIN}21U001`)).toBe(`01${GTIN}21U001`);
  });
});
