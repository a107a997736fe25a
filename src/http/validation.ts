// zod at the edge: one function turns a failed parse into VALIDATION_FAILED with a sentence naming
// the fields, and the issues as details a client can show next to its inputs.
import type * as z from 'zod';
import { ApiError } from '../errors.js';

/** Enough issues to fix a request; a fuzzer's giant payload must not produce a giant answer. */
const maxReportedIssues = 5;
/** zod echoes unknown keys in its messages; a hostile key must not be echoed at length. */
const maxMessageChars = 200;

export function parseFields<T>(schema: z.ZodType<T>, fields: unknown): T {
  const result = schema.safeParse(fields);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, maxReportedIssues).map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message.length > maxMessageChars ? `${issue.message.slice(0, maxMessageChars)}…` : issue.message,
  }));
  const sentence = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
  throw new ApiError('VALIDATION_FAILED', `Invalid request: ${sentence}.`, { details: { issues } });
}
