// Public API of @provenant/gs1 (DESIGN §3): pure, browser-safe GS1 identifier
// handling — check digits, AI dictionary, element strings, Digital Link, EPC
// URIs and canonical subjects.

export { Gs1Error } from './errors.js';
export type { Gs1ErrorCode } from './errors.js';
export {
  CSET82,
  gs1CheckDigit,
  isValidCheckDigit,
  isValidCsumAlpha,
  normalizeGtin,
} from './check-digit.js';
export type { AiComponent, AiDefinition, ComponentType } from './dictionary.js';
export { AI_DEFINITIONS, DICTIONARY_RELEASE } from './ai-table.js';
export { daysInMonth, getAiDefinition, isCset39, isCset82, validateAiValue } from './ai.js';
export type { AiValue } from './ai.js';
export { centuryAt, gs1DateToIso, isoDateToGs1, resolveCentury } from './date.js';
export type { CenturyOptions } from './date.js';
export {
  GS,
  GS1_SYMBOLOGY_IDENTIFIERS,
  SCANNER_PROFILES,
  formatElementString,
  parseElementString,
} from './element-string.js';
export type {
  FormatElementStringOptions,
  Gs1Parts,
  ParseElementStringOptions,
  ScannerOptions,
  ScannerProfile,
} from './element-string.js';
export {
  DL_SHORT_NAMES,
  formatDigitalLink,
  normalizeUriStem,
  parseDigitalLink,
} from './digital-link.js';
export type { FormatDigitalLinkOptions } from './digital-link.js';
export {
  CANONICAL_DL_HOST,
  companyPrefixLengthIn,
  companyPrefixZone,
  digitalLinkToEpc,
  epcToDigitalLink,
  formatEpcUri,
  parseEpcUri,
} from './epc.js';
export type { CompanyPrefixLengthOf } from './epc.js';
export { encodeRfc3986 } from './percent.js';
export { formatSubject, parseScan, parseSubject } from './scan.js';
export type { ParseScanOptions, ScanResult, SubjectParts } from './scan.js';
