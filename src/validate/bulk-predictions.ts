import type { Readable } from 'node:stream';
import { parseJson, POISONED_FIELDS } from '../server/json-body.js';
import { compileBodyValidator, fieldProblems, type FieldProblem } from '../server/validation.js';
import { ndjsonLines } from './ndjson.js';
import { createdAtProblem, PredictionInputSchema, type PredictionInput } from './prediction.js';

/** A line of a bulk load: the prediction it holds, or why it is refused. */
export type BulkLine = { line: number; prediction: PredictionInput } | { line: number; problems: FieldProblem[] };

const validPrediction = compileBodyValidator(PredictionInputSchema);

/**
 * The non-blank lines of an NDJSON bulk load, each checked as one prediction of POST /predictions
 * is: readable, JSON, valid against the schema, and with a created_at the store can take.
 */
export async function* bulkPredictionLines(stream: Readable, maxLineBytes: number, retentionDays: number | undefined): AsyncGenerator<BulkLine> {
  for await (const entry of ndjsonLines(stream, maxLineBytes)) {
    const { line } = entry;
    if ('unreadable' in entry) {
      yield { line, problems: [{ field: '(line)', message: entry.unreadable }] };
      continue;
    }
    const parsed = parseJson(entry.text);
    if (!('value' in parsed)) {
      yield { line, problems: 'poisoned' in parsed ? POISONED_FIELDS : [{ field: '(line)', message: 'is not valid JSON' }] };
      continue;
    }
    if (!validPrediction(parsed.value)) {
      yield { line, problems: fieldProblems(validPrediction.errors ?? [], false) };
      continue;
    }
    const prediction = parsed.value as PredictionInput;
    const timeProblem = createdAtProblem(prediction, Date.now(), retentionDays);
    yield timeProblem ? { line, problems: [{ field: 'created_at', message: timeProblem }] } : { line, prediction };
  }
}
