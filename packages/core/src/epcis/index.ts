// EPCIS 2.0 / CBV 2.0 (DESIGN §11): event hash IDs.
export { epcisDocumentEvents, epcisEventHash, epcisEventPrehash, epcisVocabulary } from './hash.js';
export type { EpcisHashContext } from './hash.js';
export { canonicalDigitalLink, canonicalTime, canonicalValue } from './canonical-values.js';
export {
  MAX_DOCUMENT_EVENTS,
  actionSchema,
  aggregationEventSchema,
  bizTransactionSchema,
  destinationSchema,
  epcSchema,
  epcisDateTimeSchema,
  epcisDocumentSchema,
  epcisEventSchema,
  epcisUriSchema,
  errorDeclarationSchema,
  ilmdSchema,
  objectEventSchema,
  otherEventSchema,
  parseEpcisDocument,
  parseEpcisEvent,
  sourceSchema,
  timeZoneOffsetSchema,
  vocabularySchema,
} from './schema.js';
export type {
  EpcisAggregationEvent,
  EpcisDocument,
  EpcisEvent,
  EpcisObjectEvent,
  EpcisParseResult,
} from './schema.js';
export {
  EXPORT_CONTEXT,
  PROVENANT_EPCIS_NS,
  epcisEventFromRecord,
  recordDraftOf,
  recordsFromEpcisEvent,
  subjectToDigitalLink,
} from './mapping.js';
export type {
  EpcisMappingCode,
  EpcisMappingContext,
  EpcisMappingError,
  EpcisMappingResult,
  RecordDraft,
} from './mapping.js';
export {
  DEFAULT_PER_PAGE,
  EPCIS_EVENT_TYPE_NAMES,
  EPCIS_QUERY_PARAMETERS,
  MAX_PER_PAGE,
  encodePageToken,
  epcMatcherOf,
  parseEpcisQuery,
  queryFingerprint,
} from './query.js';
export type {
  EpcMatcher,
  EpcisEventQuery,
  EpcisQueryParseResult,
  QueryParameterIssue,
  TimeRange,
} from './query.js';
export {
  EPCIS_CONTEXT_URL,
  EPC_FORMATS,
  answeredEvent,
  answeredEventText,
  epcisQueryDocumentText,
  epcisQueryDocument,
  keepsCapturedBytes,
  parseEpcFormat,
  translateEventEpcs,
} from './query-document.js';
export type { EpcFormat, QueryDocumentInput } from './query-document.js';
export {
  cbvTerm,
  epcisEventIndex,
  epcisGlnOf,
  epcisLocationKey,
  epcisSubjectKey,
} from './index-fields.js';
export type { EpcisEventIndex } from './index-fields.js';
export { epcisActorProblem, epcisOwnershipProblem, epcisStatedActors } from './capture-rules.js';
export type { CapturingParty, EpcisCaptureCode, EpcisCaptureError } from './capture-rules.js';
export { JsonTextError, jsonArrayElementTexts } from './json-text.js';
