import type { z } from 'zod';
import { SlipwayError } from '../errors.js';
import { inputProblem } from '../limits/input-policy.js';

/** Parse with zod; on failure throw VALIDATION_FAILED naming the first bad field (and all issues). */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix?: string): z.output<S> {
  // Before zod: a hostile value (NUL, 10^5 levels deep) is refused without walking it twice.
  const problem = inputProblem(value, prefix ?? '');
  if (problem) {
    const field = problem.field.replace(/^\./, '') || (prefix ?? 'input');
    throw new SlipwayError('VALIDATION_FAILED', `${field}: ${problem.message}`, { details: { field } });
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({
    field: [...(prefix ? [prefix] : []), ...i.path.map(String)].join('.') || (prefix ?? 'input'),
    message: i.message,
  }));
  const first = issues[0] ?? { field: prefix ?? 'input', message: 'invalid' };
  throw new SlipwayError('VALIDATION_FAILED', `${first.field}: ${first.message}`, {
    details: { field: first.field, issues },
  });
}
