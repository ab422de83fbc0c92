// The one error type of this package: every rejection of scan data, Digital
// Link, EPC URI or subject names the rule broken (`code`) and, where one is
// involved, the Application Identifier (`ai`) (DESIGN §3: "a clear error naming
// the field and the rule ... never a crash").

/** Closed set of rules a GS1 input can break. */
export type Gs1ErrorCode =
  /** Input is empty (after trimming) or not a string / `{gtin, serial}` object. */
  | 'EMPTY'
  /** Wrong JavaScript type or shape passed to an API function. */
  | 'BAD_INPUT'
  /** Mod-10 (or csumalpha) check digit does not match. */
  | 'BAD_CHECK_DIGIT'
  /** A character outside the AI's character set (N digits, CSET 82, CSET 39, base64url). */
  | 'ILLEGAL_CHARACTER'
  /** An AI that is not in the GS1 Barcode Syntax Dictionary. */
  | 'UNKNOWN_AI'
  /** A variable-length value ran into the next element string: no GS/FNC1 between them. */
  | 'MISSING_SEPARATOR'
  /** Value too short or too long for the AI. */
  | 'BAD_LENGTH'
  /** Not a valid YYMMDD / YYYYMMDD / time value. */
  | 'BAD_DATE'
  /** Value fails another content rule of the dictionary (linter). */
  | 'BAD_VALUE'
  /** The same AI appears twice with different values. */
  | 'DUPLICATE_AI'
  /** Two AIs that the dictionary declares mutually exclusive (`ex=`). */
  | 'CONFLICTING_AI'
  /** A symbology identifier that cannot carry GS1 element strings. */
  | 'BAD_SYMBOLOGY'
  /** Malformed GS1 Digital Link URI. */
  | 'BAD_DIGITAL_LINK'
  /** Key qualifier not allowed for the primary key, or out of order (DL `dlpkey=`). */
  | 'BAD_QUALIFIER'
  /** Digital Link URI stem (scheme, host, port, path) is invalid. */
  | 'BAD_URI_STEM'
  /** Malformed EPC pure-identity URI (TDS). */
  | 'BAD_EPC_URI'
  /** Not a canonical subject (DESIGN §3). */
  | 'BAD_SUBJECT'
  /** No identification key (00, 01, ...) that the operation needs. */
  | 'NO_KEY'
  /** A GTIN without a serial: a unit subject needs AI 21. */
  | 'MISSING_SERIAL';

/** Thrown for any input that breaks a GS1 rule. `ai` names the AI when one is involved. */
export class Gs1Error extends Error {
  readonly code: Gs1ErrorCode;
  readonly ai: string | undefined;

  constructor(code: Gs1ErrorCode, message: string, ai?: string) {
    super(message);
    this.name = 'Gs1Error';
    this.code = code;
    this.ai = ai;
  }
}
