/** Static questions about a parsed expression: what it reads, what it calls, what is wrong. */
import { childrenOf, type Expr, type ExprError, type IndexNode, type PropertyNode } from './ast';
import { didYouMean, FUNCTIONS, isKnownContext, KNOWN_CONTEXTS, lookupFunction } from './builtins';

export interface ReferenceSegment {
  name: string;
  start: number;
  end: number;
}

export interface Reference {
  /** e.g. ['steps', 'build', 'outputs', 'text'] for `steps.build.outputs.text`. */
  path: string[];
  /** Span of the whole chain, from the context name to the last segment. */
  start: number;
  end: number;
  /** One entry per path element, with the span of that element in the source. */
  segments: ReferenceSegment[];
}

export interface CallInfo {
  name: string;
  /** Span of the function name. */
  start: number;
  end: number;
  argc: number;
}

export interface CheckOptions {
  /** True for `if`: success(), failure() and always() are allowed there only. */
  allowStatusFunctions: boolean;
}

/**
 * Every context access chain that begins at an identifier, in source order.
 * `a['key']` and `a[0]` add a segment; any other index ends the chain (the
 * references inside the index are reported separately).
 */
export function collectReferences(ast: Expr): Reference[] {
  const out: Reference[] = [];
  visitReferences(ast, out);
  return out;
}

function visitReferences(node: Expr, out: Reference[]): void {
  if (node.kind !== 'ref' && node.kind !== 'property' && node.kind !== 'index') {
    for (const child of childrenOf(node)) visitReferences(child, out);
    return;
  }
  const links: Array<PropertyNode | IndexNode> = [];
  let root: Expr = node;
  while (root.kind === 'property' || root.kind === 'index') {
    links.unshift(root);
    root = root.object;
  }
  if (root.kind === 'ref') {
    const segments: ReferenceSegment[] = [{ name: root.name, start: root.start, end: root.end }];
    let end = root.end;
    for (const link of links) {
      const segment = segmentOf(link);
      if (segment === undefined) break;
      segments.push(segment);
      end = link.end;
    }
    out.push({ path: segments.map((s) => s.name), start: root.start, end, segments });
  } else {
    visitReferences(root, out);
  }
  for (const link of links) {
    if (link.kind === 'index') visitReferences(link.index, out);
  }
}

function segmentOf(link: PropertyNode | IndexNode): ReferenceSegment | undefined {
  if (link.kind === 'property') return { name: link.name, start: link.nameStart, end: link.nameEnd };
  const key = link.index;
  if (key.kind === 'literal' && (typeof key.value === 'string' || typeof key.value === 'number')) {
    return { name: String(key.value), start: key.start, end: key.end };
  }
  return undefined;
}

/** Every function call, in source order; the span is the function name. */
export function collectCalls(ast: Expr): CallInfo[] {
  const out: CallInfo[] = [];
  const visit = (node: Expr): void => {
    if (node.kind === 'call') {
      out.push({ name: node.name, start: node.nameStart, end: node.nameEnd, argc: node.args.length });
    }
    for (const child of childrenOf(node)) visit(child);
  };
  visit(ast);
  return out;
}

/**
 * Context names, function names and arities, and the fixed shapes of
 * `session`, `workflow` and `steps.ID`. Whether an input or step exists is
 * left to the caller (see `collectReferences`).
 */
export function checkExpression(ast: Expr, opts: CheckOptions): ExprError[] {
  const errors: ExprError[] = [];
  const visit = (node: Expr): void => {
    if (node.kind === 'ref') checkContext(node.name, node, errors);
    if (node.kind === 'call') checkCall(node.name, node.args.length, node, opts, errors);
    for (const child of childrenOf(node)) visit(child);
  };
  visit(ast);
  for (const ref of collectReferences(ast)) checkShape(ref.segments, errors);
  return errors.sort((a, b) => a.start - b.start);
}

function checkContext(name: string, node: Expr, errors: ExprError[]): void {
  if (isKnownContext(name)) {
    // Evaluation ignores case, but callers compare paths exactly: ask for the canonical spelling.
    if (!KNOWN_CONTEXTS.includes(name)) {
      const canonical = name.toLowerCase();
      errors.push({ message: `write '${canonical}' in lowercase: context names are lowercase`, start: node.start, end: node.end });
    }
    return;
  }
  const lower = name.toLowerCase();
  const hint =
    lower === 'true' || lower === 'false' || lower === 'null'
      ? ` Literals are lowercase: write '${lower}'.`
      : didYouMean(name, KNOWN_CONTEXTS);
  errors.push({
    message: `unknown context '${name}'.${hint} Known contexts: ${KNOWN_CONTEXTS.join(', ')}.`,
    start: node.start,
    end: node.end,
  });
}

function checkCall(
  name: string,
  argc: number,
  node: { nameStart: number; nameEnd: number },
  opts: CheckOptions,
  errors: ExprError[],
): void {
  const at = { start: node.nameStart, end: node.nameEnd };
  const spec = lookupFunction(name);
  if (spec === undefined) {
    const names = FUNCTIONS.map((f) => f.name);
    const message = `unknown function '${name}'.${didYouMean(name, names)} Known functions: ${names.join(', ')}.`;
    errors.push({ message, ...at });
    return;
  }
  if (name !== spec.name) {
    errors.push({ message: `write '${spec.name}' instead of '${name}': function names are case-sensitive here`, ...at });
  }
  if (argc < spec.minArgs || argc > spec.maxArgs) {
    let expected: string;
    if (spec.maxArgs === 0) expected = 'takes no arguments';
    else if (spec.minArgs === spec.maxArgs) expected = `takes exactly ${spec.minArgs} argument${spec.minArgs === 1 ? '' : 's'}`;
    else expected = `needs at least ${spec.minArgs} argument${spec.minArgs === 1 ? '' : 's'}`;
    errors.push({ message: `${spec.name}() ${expected}, got ${argc}`, ...at });
  }
  if (spec.status && !opts.allowStatusFunctions) {
    errors.push({ message: `${spec.name}() can only be used in 'if'`, ...at });
  }
}

const STEP_PROPERTIES = ['outputs', 'status', 'findings'];

function checkShape(segments: ReferenceSegment[], errors: ExprError[]): void {
  const [root, second, third, fourth] = segments;
  const context = root.name;
  const fail = (message: string, at: ReferenceSegment): void => {
    errors.push({ message, start: at.start, end: at.end });
  };
  if (context === 'session' || context === 'workflow') {
    const only = context === 'session' ? 'id' : 'name';
    if (second === undefined) return;
    if (second.name !== only) {
      fail(`unknown property '${second.name}' of '${context}': the only property is '${only}'`, second);
    } else if (third !== undefined) {
      fail(`'${context}.${only}' is a string and has no property '${third.name}'`, third);
    }
  } else if (context === 'steps' && second !== undefined && third !== undefined) {
    const prop = third.name;
    if (!STEP_PROPERTIES.includes(prop)) {
      const hint = didYouMean(third.name, STEP_PROPERTIES);
      fail(
        `unknown property '${third.name}' of step '${second.name}'.${hint} A step has 'outputs', 'status' and 'findings'.`,
        third,
      );
    } else if (fourth !== undefined && prop !== 'outputs') {
      const what = prop === 'status' ? 'a string' : 'a number (the count of findings)';
      fail(`'steps.${second.name}.${prop}' is ${what} and has no property '${fourth.name}'`, fourth);
    }
  }
}
