// zod schemas of the EPCIS 2.0 JSON-LD shapes Provenant accepts (DESIGN §11),
// written from the EPCIS 2.0 standard's data model (§7) and its JSON-LD
// binding. Documents arrive from integrators' systems, so they are
// attacker-controlled: the fields the §11 table maps are checked strictly;
// every other key must be a standard EPCIS field or a namespaced extension
// (`prefix:name`), which pass through untouched so that the event is stored,
// and hashed, exactly as captured.
import { z } from 'zod';
import type { PayloadIssue } from '../records.js';

// Free text without control characters (JCS and the hash both need clean strings).
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}\p{Cs}]*$/u, 'control characters are not allowed');

/** An absolute URI (EPC URN, GS1 Digital Link, CBV web URI, urn:uuid, ...). */
export const epcisUriSchema = text(2048).regex(
  /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/,
  'expected an absolute URI without spaces',
);

// EPCIS 2.0 §7.4.1: dateTime with an explicit time zone.
const DATE_TIME =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-](0\d|1[0-4]):[0-5]\d)$/;
/** An xsd:dateTime with a time zone (`Z` or `±hh:mm`). */
export const epcisDateTimeSchema = z
  .string()
  .regex(DATE_TIME, 'expected a dateTime with a time zone, e.g. 2026-11-28T12:00:00.000+01:00')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'expected a real date and time');
/** EPCIS 2.0 eventTimeZoneOffset: `±hh:mm`, -14:00 to +14:00. */
export const timeZoneOffsetSchema = z
  .string()
  .regex(/^[+-]((0\d|1[0-3]):[0-5]\d|14:00)$/, 'expected a time zone offset ±hh:mm');
/** An EPC: an EPC URI (urn:epc:id, urn:epc:class, urn:epc:idpat) or a GS1 Digital Link URI. */
export const epcSchema = text(2048).regex(
  /^(urn:epc:(id|class|idpat):\S+|https?:\/\/[^/\s]+\/\S+)$/,
  'expected an EPC URI (urn:epc:id:...) or a GS1 Digital Link URI',
);
/** A CBV vocabulary value: a bare CBV 2.0 term (`shipping`) or a URI. */
export const vocabularySchema = text(512).regex(
  /^([A-Za-z0-9_-]+|[A-Za-z][A-Za-z0-9+.-]*:\S+)$/,
  'expected a CBV term (e.g. shipping) or a URI',
);
export const actionSchema = z.enum(['ADD', 'OBSERVE', 'DELETE']);

// Extension keys are namespaced (EPCIS 2.0 §9.1: prefix:localName).
const EXTENSION_KEY = /^[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*$/;

/** Adds an issue for every key of `obj` that is neither `known` nor a namespaced extension. */
function onlyKnownOrExtensions(known: readonly string[]) {
  const allowed = new Set(known);
  return (obj: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    for (const key of Object.keys(obj)) {
      if (allowed.has(key) || EXTENSION_KEY.test(key)) continue;
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `unknown field ${key}: not an EPCIS 2.0 field nor a namespaced extension`,
      });
    }
  };
}

function withExtensions<T extends z.ZodRawShape>(shape: T, moreKnown: readonly string[] = []) {
  return z
    .looseObject(shape)
    .superRefine(onlyKnownOrExtensions([...Object.keys(shape), ...moreKnown]));
}

const locationSchema = withExtensions({ id: epcisUriSchema });

// EPCIS wants a URI here; plain ids (an order number) are taken too, as
// records carry them (DESIGN §5 ship transactions) and export them as such.
export const bizTransactionSchema = withExtensions({
  type: vocabularySchema.optional(),
  bizTransaction: text(2048),
});
export const sourceSchema = withExtensions({ type: vocabularySchema, source: epcisUriSchema });
export const destinationSchema = withExtensions({
  type: vocabularySchema,
  destination: epcisUriSchema,
});

/** ILMD: lot and expiry (CBV 2.0 §9: cbvmda:lotNumber, cbvmda:itemExpirationDate) and extensions. */
export const ilmdSchema = withExtensions({
  'cbvmda:lotNumber': text(20).optional(),
  'cbvmda:itemExpirationDate': z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'expected a date YYYY-MM-DD')
    .optional(),
});

export const errorDeclarationSchema = withExtensions({
  declarationTime: epcisDateTimeSchema,
  reason: vocabularySchema.optional(),
  correctiveEventIDs: z.array(epcisUriSchema).max(1000).optional(),
});

const quantityElementSchema = withExtensions({
  epcClass: epcSchema,
  quantity: z.number().finite().nonnegative().optional(),
  uom: text(3).optional(),
});

// Most EPCs one event may list (DESIGN §8: batches of up to 10,000).
const MAX_EPCS = 10_000;
const epcListSchema = z.array(epcSchema).max(MAX_EPCS);

// Fields every event type shares (EPCIS 2.0 §7.4.1) and those Provenant maps.
const common = {
  '@context': z.unknown().optional(),
  eventTime: epcisDateTimeSchema,
  eventTimeZoneOffset: timeZoneOffsetSchema,
  recordTime: epcisDateTimeSchema.optional(),
  eventID: epcisUriSchema.optional(),
  errorDeclaration: errorDeclarationSchema.optional(),
  certificationInfo: z.unknown().optional(),
  bizStep: vocabularySchema.optional(),
  disposition: vocabularySchema.optional(),
  readPoint: locationSchema.optional(),
  bizLocation: locationSchema.optional(),
  bizTransactionList: z.array(bizTransactionSchema).max(100).optional(),
  sourceList: z.array(sourceSchema).max(100).optional(),
  destinationList: z.array(destinationSchema).max(100).optional(),
};
// Standard fields accepted and stored as captured, but not mapped to records.
const UNMAPPED_STANDARD = ['persistentDisposition', 'sensorElementList'];

export const objectEventSchema = withExtensions(
  {
    ...common,
    type: z.literal('ObjectEvent'),
    action: actionSchema,
    epcList: epcListSchema.optional(),
    quantityList: z.array(quantityElementSchema).max(MAX_EPCS).optional(),
    ilmd: ilmdSchema.optional(),
  },
  UNMAPPED_STANDARD,
);

export const aggregationEventSchema = withExtensions(
  {
    ...common,
    type: z.literal('AggregationEvent'),
    action: actionSchema,
    parentID: epcSchema.optional(),
    childEPCs: epcListSchema.optional(),
    childQuantityList: z.array(quantityElementSchema).max(MAX_EPCS).optional(),
  },
  UNMAPPED_STANDARD,
).superRefine((e, ctx) => {
  // EPCIS 2.0 §7.4.3: parentID is required unless the action is OBSERVE.
  if (e.action !== 'OBSERVE' && e.parentID === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['parentID'],
      message: `parentID is required for ${e.action}`,
    });
  }
});

/**
 * The other EPCIS 2.0 event types: accepted in a document so that each is
 * reported on its own as unmapped (DESIGN §11), never validated further.
 */
export const otherEventSchema = z.looseObject({
  type: z.enum(['TransactionEvent', 'TransformationEvent', 'AssociationEvent']),
});

export const epcisEventSchema = z.discriminatedUnion('type', [
  objectEventSchema,
  aggregationEventSchema,
  otherEventSchema,
]);

/** Most events one captured document may hold. */
export const MAX_DOCUMENT_EVENTS = 10_000;

export const epcisDocumentSchema = withExtensions({
  '@context': z.union([z.string(), z.array(z.unknown()).min(1), z.record(z.string(), z.unknown())]),
  type: z.literal('EPCISDocument'),
  schemaVersion: z.string().regex(/^2\.\d+$/, 'expected schemaVersion 2.x'),
  creationDate: epcisDateTimeSchema,
  id: epcisUriSchema.optional(),
  epcisHeader: z.unknown().optional(),
  epcisBody: withExtensions({
    eventList: z.array(epcisEventSchema).max(MAX_DOCUMENT_EVENTS),
  }),
});

export type EpcisObjectEvent = z.infer<typeof objectEventSchema>;
export type EpcisAggregationEvent = z.infer<typeof aggregationEventSchema>;
export type EpcisEvent = z.infer<typeof epcisEventSchema>;
export type EpcisDocument = z.infer<typeof epcisDocumentSchema>;

export type EpcisParseResult<T> = { ok: true; value: T } | { ok: false; errors: PayloadIssue[] };

function parseWith<T>(schema: z.ZodType<T>, input: unknown): EpcisParseResult<T> {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    errors: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  };
}

/**
 * Validates an EPCISDocument. Never throws: errors name the field path
 * (`epcisBody.eventList.3.epcList.0`) and the rule.
 */
export function parseEpcisDocument(input: unknown): EpcisParseResult<EpcisDocument> {
  return parseWith(epcisDocumentSchema, input);
}

/** Validates one EPCIS event (ObjectEvent, AggregationEvent, or another type to be refused by the mapping). */
export function parseEpcisEvent(input: unknown): EpcisParseResult<EpcisEvent> {
  return parseWith(epcisEventSchema, input);
}
