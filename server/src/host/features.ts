/**
 * Everything the host answers from one validated document, as one function of plain data in and
 * plain data out, so that it runs the same on the main thread (small documents) and in the
 * validation worker (large ones, see offThread.ts).
 */
import type { CodeLens, CompletionItem, Diagnostic, DocumentSymbol, Hover, Position } from 'vscode-languageserver';
import type { PlanResult, WorkflowProblem } from '../protocol';
import { graphOfPlan } from '../workflow/graph';
import { compileWorkflow, formatPlan, planWorkflow } from '../workflow/plan';
import type { LineIndex } from '../workflow/problems';
import type { Validation } from '../workflow/validate';
import { codeLenses, completion, documentSymbols, hover, toDiagnostic, toRange } from './language';

export type FeatureRequest =
  | { readonly kind: 'completion'; readonly position: Position }
  | { readonly kind: 'hover'; readonly position: Position }
  | { readonly kind: 'symbols' }
  | { readonly kind: 'codeLens'; readonly uri: string; readonly trusted: boolean }
  | { readonly kind: 'problems' }
  | { readonly kind: 'plan' };

export interface FeatureResults {
  completion: CompletionItem[];
  hover: Hover | null;
  symbols: DocumentSymbol[];
  codeLens: CodeLens[];
  problems: WorkflowProblem[];
  plan: PlanResult;
}

export type FeatureResult<R extends FeatureRequest> = FeatureResults[R['kind']];

export function diagnosticsOf(v: Validation, index: LineIndex): Diagnostic[] {
  return v.problems.map((p) => toDiagnostic(index, p));
}

export function problemsOf(v: Validation, index: LineIndex): WorkflowProblem[] {
  return v.problems.map((p) => ({ code: p.code, severity: p.severity, message: p.message, range: toRange(index, p.span) }));
}

export function planOf(v: Validation, index: LineIndex): PlanResult {
  if (v.problems.some((x) => x.severity === 'error')) return { ok: false, problems: problemsOf(v, index) };
  const compiled = compileWorkflow(v);
  const plan = planWorkflow(compiled);
  return { ok: true, ...plan, text: formatPlan(plan), inputs: compiled.definition.inputs ?? {}, graph: graphOfPlan(plan, plan.workflow) };
}

export function answer<R extends FeatureRequest>(v: Validation, index: LineIndex, req: R): FeatureResult<R>;
export function answer(v: Validation, index: LineIndex, req: FeatureRequest): FeatureResults[keyof FeatureResults] {
  switch (req.kind) {
    case 'completion':
      return completion(v, index, req.position);
    case 'hover':
      return hover(v, index, req.position);
    case 'symbols':
      return documentSymbols(v, index);
    case 'codeLens':
      return codeLenses(v, index, req.uri, req.trusted);
    case 'problems':
      return problemsOf(v, index);
    case 'plan':
      return planOf(v, index);
  }
}
