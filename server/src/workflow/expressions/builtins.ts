/** Names the expression language knows: contexts and functions. */

export const KNOWN_CONTEXTS: readonly string[] = [
  'inputs',
  'env',
  'secrets',
  'steps',
  'matrix',
  'session',
  'workflow',
];

export interface FunctionSpec {
  /** Canonical spelling. Calls are matched case-insensitively, like GitHub Actions. */
  name: string;
  minArgs: number;
  /** `Infinity` for variadic functions. */
  maxArgs: number;
  /** Reads the step status: only meaningful in `if`. */
  status: boolean;
  /** For completion and hover, e.g. `contains(search, item)`. */
  signature: string;
  description: string;
}

export const FUNCTIONS: readonly FunctionSpec[] = [
  {
    name: 'contains', minArgs: 2, maxArgs: 2, status: false,
    signature: 'contains(search, item)',
    description: 'True if the string `search` contains `item` (ignoring case), or if the array `search` has an element equal to `item`.',
  },
  {
    name: 'startsWith', minArgs: 2, maxArgs: 2, status: false,
    signature: 'startsWith(searchString, searchValue)',
    description: 'True if `searchString` starts with `searchValue` (ignoring case).',
  },
  {
    name: 'endsWith', minArgs: 2, maxArgs: 2, status: false,
    signature: 'endsWith(searchString, searchValue)',
    description: 'True if `searchString` ends with `searchValue` (ignoring case).',
  },
  {
    name: 'format', minArgs: 1, maxArgs: Infinity, status: false,
    signature: 'format(string, replaceValue0, replaceValue1, ...)',
    description: "Replaces `{0}`, `{1}`, ... in `string` with the values; `{{` and `}}` are literal braces. Numbers print with up to 15 significant digits; an array prints as `Array` and an object as `Object` (use `toJSON` for their content).",
  },
  {
    name: 'toJSON', minArgs: 1, maxArgs: 1, status: false,
    signature: 'toJSON(value)',
    description: 'The value as pretty-printed JSON.',
  },
  {
    name: 'fromJSON', minArgs: 1, maxArgs: 1, status: false,
    signature: 'fromJSON(value)',
    description: 'Parses a JSON string into a value (object, array, number, boolean, null or string).',
  },
  {
    name: 'success', minArgs: 0, maxArgs: 0, status: true,
    signature: 'success()',
    description: "True when no earlier step failed. Only in 'if'; the default condition.",
  },
  {
    name: 'failure', minArgs: 0, maxArgs: 0, status: true,
    signature: 'failure()',
    description: "True when an earlier step failed. Only in 'if'.",
  },
  {
    name: 'always', minArgs: 0, maxArgs: 0, status: true,
    signature: 'always()',
    description: "Always true: the step runs even after a failure. Only in 'if'.",
  },
];

/** Matched case-insensitively, like GitHub Actions (checkExpression asks for the canonical spelling). */
export function lookupFunction(name: string): FunctionSpec | undefined {
  const lower = name.toLowerCase();
  return FUNCTIONS.find((f) => f.name.toLowerCase() === lower);
}

/** Matched case-insensitively, like GitHub Actions (checkExpression asks for lowercase). */
export function isKnownContext(name: string): boolean {
  return KNOWN_CONTEXTS.includes(name.toLowerCase());
}

// Suggestions share one implementation with the rest of the workflow checks.
export { closest, didYouMean, editDistance } from '../suggest';
