/** Public API of the workflow expression language (`${{ ... }}`). */
export type {
  BinaryNode,
  BinaryOp,
  CallNode,
  Expr,
  ExprError,
  IndexNode,
  LiteralNode,
  LiteralValue,
  LogicalNode,
  LogicalOp,
  PropertyNode,
  RefNode,
  Span,
  UnaryNode,
} from './ast';
export { childrenOf } from './ast';
export { FUNCTIONS, KNOWN_CONTEXTS, type FunctionSpec } from './builtins';
export { lex, type Token, type TokenKind } from './lexer';
export { parseExpression, type ParseResult } from './parser';
export {
  findExpressions,
  parseTemplate,
  type FindResult,
  type FoundExpression,
  type ParsedExpression,
  type ParsedTemplate,
} from './template';
export {
  checkExpression,
  collectCalls,
  collectReferences,
  type CallInfo,
  type CheckOptions,
  type Reference,
  type ReferenceSegment,
} from './analyze';
export { evaluate, ExpressionError, type EvalContext } from './evaluate';
export {
  foldCase,
  formatNumber,
  looseEquals,
  parseNumberText,
  toNumber,
  toStringValue,
  toText,
  truthy,
  type Value,
} from './coerce';
export {
  constantValue,
  evaluateCondition,
  interpolate,
  interpolateValue,
  isConstant,
  parseCondition,
  prepareScript,
  type ConditionOptions,
  type ConstantResult,
  type PreparedScript,
} from './interpolate';
