// How one definition of an API shape becomes two (issue 9, DESIGN §8): each
// area of the API (log.ts, registry.ts, ...) is a function of the mode that
// builds its shapes with the helpers below, called once per mode.
// - strict: what the server answers and documents in /openapi.json (closed
//   objects, closed enums, every field it always sends required); the
//   contract test checks every response of the suite against it.
// - tolerant: what a client (SDK, dock page) accepts: unknown fields kept,
//   open enums as strings, fields an older or offline producer may omit
//   optional, so a client keeps working when the server adds a field.
// Request bodies are strict objects in both modes: the server refuses an
// unknown field, and a client typing a request gets the same rules.
import { z } from 'zod';

/** 'strict': what the server answers; 'tolerant': what a client accepts. */
export type ShapeMode = 'strict' | 'tolerant';

/** An enum value: the closed set on the server, any string for a client. */
export type Choice<M extends ShapeMode, V extends string> = M extends 'strict' ? V : string;
/** A field the server always sends: required there, optional for a client. */
export type Sent<M extends ShapeMode, T extends z.ZodType> = M extends 'strict'
  ? T
  : z.ZodOptional<T>;

/** The mode's builders; see the file header. */
export function shapeKit<M extends ShapeMode>(mode: M) {
  const strict = mode === 'strict';
  return {
    strict,
    /** A response object: closed on the server (additionalProperties: false), open for a client. */
    obj: <S extends z.ZodRawShape>(shape: S) =>
      (strict ? z.strictObject(shape) : z.looseObject(shape)) as unknown as z.ZodObject<S>,
    /** Required on the server, optional for a client (older servers, the offline engine). */
    sent: <T extends z.ZodType>(t: T) => (strict ? t : t.optional()) as Sent<M, T>,
    /** A closed enum on the server, any string for a client (new values must not break it). */
    oneOf: <V extends readonly [string, ...string[]]>(values: V) =>
      (strict ? z.enum(values) : z.string()) as unknown as z.ZodType<Choice<M, V[number]>>,
    int: z.number().int(),
  };
}
