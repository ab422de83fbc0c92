// Subjects as the custodial endpoints take them (DESIGN §3 "inputs accepted
// anywhere a subject is expected"): a canonical subject, any scan form
// (element strings with or without symbology identifier, Digital Link, EPC
// URIs), `{gtin, serial}`, and for a logistic unit its bare 18-digit SSCC.
// Every value is attacker-controlled; a bad one is a 400 naming its index and
// the GS1 rule it broke, and nothing is written.
import type { z } from 'zod';
import { MAX_SCAN_CHARS, scanInputSchema } from '@provenant/core';
import { Gs1Error, parseScan, parseSubject, formatSubject, validateAiValue } from '@provenant/gs1';
import { badRequest, type FieldError } from '@provenant/server-kit';
import { MAX_FIELD_ERRORS } from '@provenant/server-kit';

// One subject input (a string in any §3 form, or `{gtin, serial}`): core api/requests.ts.
export { MAX_SCAN_CHARS, scanInputSchema };
export type ScanInput = z.infer<typeof scanInputSchema>;

/** Which kind of subject an input must name. */
export type SubjectKind = 'unit' | 'container' | 'any';

/** A subject input that did not resolve: where, which rule, why. */
export class SubjectInputError extends Error {
  override readonly name = 'SubjectInputError';
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}

// GS1 error codes as field-error rules: BAD_CHECK_DIGIT -> bad-check-digit.
function ruleOf(err: Gs1Error): string {
  return err.code.toLowerCase().replace(/_/g, '-');
}

/**
 * The canonical subject named by one input.
 * @throws SubjectInputError naming the GS1 rule (bad-check-digit,
 *   illegal-character, unknown-ai, missing-separator, ...) or the kind rule
 *   (`unit-subject`, `logistic-unit-subject`).
 */
export function resolveSubject(input: ScanInput, kind: SubjectKind = 'any'): string {
  let subject: string;
  try {
    if (typeof input !== 'string') subject = parseScan(input).subject;
    else {
      const text = input.trim();
      if (/^\d{18}$/.test(text)) {
        // A bare SSCC (the label's human-readable line): AI 00 rules, check digit included.
        validateAiValue('00', text);
        subject = `00/${text}`;
      } else if (/^0[01]\//.test(text)) {
        // Already a canonical subject: only its exact canonical spelling is accepted.
        subject = formatSubject(parseSubject(text));
      } else subject = parseScan(text).subject;
    }
  } catch (err) {
    if (err instanceof Gs1Error) {
      const ai = err.ai && !err.message.includes(`(${err.ai})`) ? ` (AI ${err.ai})` : '';
      throw new SubjectInputError(ruleOf(err), `${err.message}${ai}`);
    }
    throw err;
  }
  const container = subject.startsWith('00/');
  if (kind === 'unit' && container)
    throw new SubjectInputError(
      'unit-subject',
      'expected a serialized unit (GTIN + serial), not an SSCC',
    );
  if (kind === 'container' && !container)
    throw new SubjectInputError('logistic-unit-subject', 'expected a logistic unit (SSCC)');
  return subject;
}

/** Options of {@link resolveSubjects}. */
export interface ResolveOptions {
  kind?: SubjectKind;
  /** Refuse the same subject twice (400 `duplicate` naming both indexes). Default true. */
  unique?: boolean;
}

/**
 * Resolves a list of inputs (at `where`, e.g. `body.subjects`) to canonical
 * subjects, in order. All-or-nothing: every bad input is reported.
 * @throws HttpProblem 400 `invalid-request` with one field error per bad input
 *   (`body.subjects[3]`, rule, message), at most MAX_FIELD_ERRORS.
 */
export function resolveSubjects(
  inputs: readonly ScanInput[],
  where: string,
  opts: ResolveOptions = {},
): string[] {
  const errors: FieldError[] = [];
  const seen = new Map<string, number>();
  const out: string[] = [];
  inputs.forEach((input, i) => {
    try {
      const subject = resolveSubject(input, opts.kind ?? 'any');
      const first = seen.get(subject);
      if (first !== undefined && opts.unique !== false) {
        errors.push({
          path: `${where}[${i}]`,
          rule: 'duplicate',
          message: `${subject} is already listed at ${where}[${first}]`,
        });
      } else seen.set(subject, i);
      out.push(subject);
    } catch (err) {
      if (!(err instanceof SubjectInputError)) throw err;
      errors.push({ path: `${where}[${i}]`, rule: err.rule, message: err.message });
    }
  });
  if (errors.length > 0) throw invalidSubjects(errors);
  return out;
}

/** Resolves one input at `where` (e.g. `body.parent`); see {@link resolveSubjects}. */
export function resolveOne(input: ScanInput, where: string, kind: SubjectKind = 'any'): string {
  try {
    return resolveSubject(input, kind);
  } catch (err) {
    if (!(err instanceof SubjectInputError)) throw err;
    throw invalidSubjects([{ path: where, rule: err.rule, message: err.message }]);
  }
}

function invalidSubjects(errors: FieldError[]): Error {
  const first = errors[0]!;
  return badRequest(
    errors.length === 1
      ? `${first.path}: ${first.message}`
      : `${errors.length} subjects are invalid; the first: ${first.path}: ${first.message}`,
    {
      errors: errors.slice(0, MAX_FIELD_ERRORS),
      ...(errors.length > MAX_FIELD_ERRORS ? { extra: { errorsTruncated: true } } : {}),
    },
  );
}
