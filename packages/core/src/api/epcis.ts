// EPCIS capture jobs (DESIGN §11): what POST /epcis/capture accepts with and
// GET /epcis/capture/{captureID} answers. Strict and tolerant forms as
// shape.ts describes.
import { z } from 'zod';
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
  return { captureJob, captureJobError, captureAccepted };
}
