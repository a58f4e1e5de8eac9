/**
 * AST of the workflow expression language (`${{ ... }}`).
 *
 * Every node carries `start`/`end`: 0-based UTF-16 offsets (end exclusive).
 * They are absolute: the parser adds the `base` its caller passes, so a node
 * of an expression found at offset 120 of a YAML file points into that file.
 * Parentheses leave no node: `(a)` parses to the node of `a`.
 */

export interface Span {
  start: number;
  end: number;
}

export type LiteralValue = string | number | boolean | null;

/** `'text'`, `"text"`, `12`, `0x1F`, `1e3`, `true`, `false`, `null`. */
export interface LiteralNode extends Span {
  kind: 'literal';
  value: LiteralValue;
}

/** A bare identifier: the root of a context access (`inputs`, `steps`, ...). */
export interface RefNode extends Span {
  kind: 'ref';
  name: string;
}

/** `object.name`; `nameStart`/`nameEnd` cover `name` only. */
export interface PropertyNode extends Span {
  kind: 'property';
  object: Expr;
  name: string;
  nameStart: number;
  nameEnd: number;
}

/** `object[index]`; the span ends after `]`. */
export interface IndexNode extends Span {
  kind: 'index';
  object: Expr;
  index: Expr;
}

/** `name(args...)`; `nameStart`/`nameEnd` cover the function name only. */
export interface CallNode extends Span {
  kind: 'call';
  name: string;
  nameStart: number;
  nameEnd: number;
  args: Expr[];
}

export interface UnaryNode extends Span {
  kind: 'unary';
  op: '!';
  operand: Expr;
}

export type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export interface BinaryNode extends Span {
  kind: 'binary';
  op: BinaryOp;
  left: Expr;
  right: Expr;
}

export type LogicalOp = '&&' | '||';

export interface LogicalNode extends Span {
  kind: 'logical';
  op: LogicalOp;
  left: Expr;
  right: Expr;
}

export type Expr =
  | LiteralNode
  | RefNode
  | PropertyNode
  | IndexNode
  | CallNode
  | UnaryNode
  | BinaryNode
  | LogicalNode;

/** A problem found while lexing, parsing or checking; offsets are absolute. */
export interface ExprError {
  message: string;
  start: number;
  end: number;
}

/** Children of a node, in source order. */
export function childrenOf(node: Expr): Expr[] {
  switch (node.kind) {
    case 'literal':
    case 'ref':
      return [];
    case 'property':
      return [node.object];
    case 'index':
      return [node.object, node.index];
    case 'call':
      return node.args;
    case 'unary':
      return [node.operand];
    case 'binary':
    case 'logical':
      return [node.left, node.right];
  }
}
