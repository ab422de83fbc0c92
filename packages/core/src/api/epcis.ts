// EPCIS capture jobs (DESIGN §11): what POST /epcis/capture accepts with and
// GET /epcis/capture/{captureID} answers. Strict and tolerant forms as
// shape.ts describes.
import { z } from 'zod';
import { recordShapes } from './records.js';
import { shapeKit, type ShapeMode } from './shape.js';

/** The capture-job shapes in one mode. */
export function epcisShapes<M extends ShapeMode>(mode: M) {
  const { obj, sent, oneOf, int } = shapeKit(mode);
  const captureJobError = obj({
    eventIndex: int,
    eventID: z.string().optional(),
    type: z.string().meta({ description: 'A problem type URI (urn:provenant:problem:<slug>)' }),
    detail: z.string(),
    reasons: z
      .array(obj({ code: z.string(), field: sent(z.string()), message: sent(z.string()) }))
      .optional(),
  });
  const captureJob = obj({
    captureID: z.string(),
    createdAt: z.string(),
    finishedAt: sent(z.string().nullable()),
    running: z.boolean(),
    success: sent(z.boolean().nullable()),
    captureErrorBehaviour: sent(oneOf(['rollback', 'proceed'] as const)),
    // Older servers do not send the counts: optional for a client.
    eventCount: sent(int.min(0).meta({ description: 'Events in the captured document' })),
    processedCount: sent(
      int.min(0).meta({
        description:
          'Events capture has gone through so far (planned, written or failed); eventCount once finished',
      }),
    ),
    errors: z.array(captureJobError),
  });
  const captureAccepted = obj({ captureID: z.string() });
  // POST /epcis/events: the event's ID and the records it became.
  const capturedEvent = obj({
    eventID: z.string(),
    records: z.array(recordShapes(mode).appendResult),
  });
  // An event is answered as captured (JSON-LD), so only what every event has is fixed.
  const epcisEvent = z.looseObject({ type: z.string(), eventID: sent(z.string()) });
  const epcisQueryDocument = obj({
    '@context': z.array(z.unknown()),
    type: z.literal('EPCISQueryDocument'),
    schemaVersion: sent(z.string()),
    creationDate: sent(z.string()),
    'provenant:records': sent(z.record(z.string(), z.array(z.string()))),
    epcisBody: obj({
      queryResults: obj({
        queryName: sent(z.string()),
        resultsBody: obj({ eventList: z.array(epcisEvent) }),
      }),
    }),
  });
  const epcisEventTypes = obj({ '@set': z.array(z.string()) });
  return {
    captureJob,
    captureJobError,
    captureAccepted,
    capturedEvent,
    epcisEvent,
    epcisQueryDocument,
    epcisEventTypes,
  };
}
