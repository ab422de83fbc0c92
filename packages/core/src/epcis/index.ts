// EPCIS 2.0 / CBV 2.0 (DESIGN §11): event hash IDs.
export { epcisDocumentEvents, epcisEventHash, epcisEventPrehash, epcisVocabulary } from './hash.js';
export type { EpcisHashContext } from './hash.js';
export { canonicalDigitalLink, canonicalTime, canonicalValue } from './canonical-values.js';
