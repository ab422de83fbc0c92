// What every service answers outside /v1 (DESIGN §8a): liveness and readiness.
// Strict and tolerant forms as shape.ts describes.
import { shapeKit, type ShapeMode } from './shape.js';

/** The framework's shapes in one mode. */
export function frameworkShapes<M extends ShapeMode>(mode: M) {
  const { obj, oneOf } = shapeKit(mode);
  /** GET /healthz, GET /readyz. */
  const health = obj({ status: oneOf(['ok']) });
  return { health };
}
