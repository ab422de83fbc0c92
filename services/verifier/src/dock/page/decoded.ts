// What a camera decode becomes in the scan field (pure: no DOM, unit-tested).
// zxing-wasm returns the symbology identifier apart (`]d2` GS1 DataMatrix,
// `]C1` GS1-128, `]Q1` a QR code, `]Q3` a GS1 QR code) and the text with real
// 0x1D separators. The identifier goes in front, as a keyboard-wedge scanner
// sends it, so parseScan knows element strings from a Digital Link URL and
// refuses a symbology that carries neither (BAD_SYMBOLOGY: a plain Code 128).

/** The barcode formats the camera reads (zxing-wasm names). */
export const CAMERA_FORMATS = ['DataMatrix', 'Code128', 'QRCode'] as const;

/** The scan string for a decoded symbol. */
export function scanOfDecoded(symbologyIdentifier: string, text: string): string {
  return /^\][A-Za-z][0-9A-Za-z]$/.test(symbologyIdentifier)
    ? `${symbologyIdentifier}${text}`
    : text;
}
