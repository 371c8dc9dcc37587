import { parseJson, POISONED_FIELDS } from '../server/json-body.js';
import { compileBodyValidator, fieldProblems, type FieldProblem } from '../server/validation.js';
import type { NdjsonLine } from './ndjson.js';
import { createdAtProblem, PredictionInputSchema, type PredictionInput } from './prediction.js';

/** A line of a bulk load: the prediction it holds, or why it is refused. */
export type BulkLine = { line: number; prediction: PredictionInput } | { line: number; problems: FieldProblem[] };

const validPrediction = compileBodyValidator(PredictionInputSchema);

/**
 * One line of an NDJSON bulk load (ndjsonLines), checked as one prediction of POST /predictions
 * is: readable, JSON, valid against the schema, and with a created_at the store can take.
 */
export function checkedBulkLine(entry: NdjsonLine, retentionDays: number | undefined): BulkLine {
  const { line } = entry;
  if ('unreadable' in entry) return { line, problems: [{ field: '(line)', message: entry.unreadable }] };
  const parsed = parseJson(entry.text);
  if (!('value' in parsed)) return { line, problems: 'poisoned' in parsed ? POISONED_FIELDS : [{ field: '(line)', message: 'is not valid JSON' }] };
  if (!validPrediction(parsed.value)) return { line, problems: fieldProblems(validPrediction.errors ?? [], false) };
  const prediction = parsed.value as PredictionInput;
  const timeProblem = createdAtProblem(prediction, Date.now(), retentionDays);
  return timeProblem ? { line, problems: [{ field: 'created_at', message: timeProblem }] } : { line, prediction };
}
