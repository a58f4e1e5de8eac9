/**
 * Where the cursor is in a workflow file, from the text alone (it must work while the YAML is
 * half typed): the chain of keys above the cursor (`#` for a list item), and whether the cursor
 * is on a key, in a value, or inside an expression.
 */

/** Start of the line holding offset (lines end at \n, \r\n or a lone \r). */
function lineStartOf(text: string, offset: number): number {
  return Math.max(text.lastIndexOf('\n', offset - 1), text.lastIndexOf('\r', offset - 1)) + 1;
}

/** The lines before a line start, split as LSP splits them. */
function linesBefore(text: string, lineStart: number): string[] {
  const lines = text.slice(0, lineStart).split(/\r\n|\r|\n/);
  lines.pop();
  return lines;
}

export interface KeyContext {
  /** Keys from the root to the map the cursor's key belongs to; '#' marks a list item. */
  readonly path: string[];
  /** The key being typed (may be empty). */
  readonly partial: string;
  readonly partialStart: number;
}

interface LineInfo {
  indent: number;
  dash: boolean;
  /** Column of the content after "- " (or indent). */
  contentCol: number;
  key?: string;
}

const LINE = /^(\s*)(-\s+)?(?:("[^"]*"|'[^']*'|[^\s:#'"][^:#]*?)\s*:(?:\s|$))?/;

function parseLine(line: string): LineInfo | undefined {
  if (!line.trim() || line.trim().startsWith('#')) return undefined;
  const m = LINE.exec(line);
  if (!m) return undefined;
  const indent = m[1].length;
  const dash = !!m[2];
  const contentCol = indent + (m[2]?.length ?? 0);
  const rawKey = m[3];
  const key = rawKey ? rawKey.replace(/^["']|["']$/g, '') : undefined;
  return { indent, dash, contentCol, key };
}

/** The chain of parent keys for content that starts at `column` on `lineNo`. */
export function parentPath(lines: readonly string[], lineNo: number, column: number, startsItem: boolean, itemIndent: number): string[] {
  const path: string[] = [];
  let target = column;
  // After a list item: its key may be at the same column (a compact list, `steps:\n- id: a`).
  let afterDash = false;
  if (startsItem) {
    path.unshift('#');
    target = itemIndent;
    afterDash = true;
  }
  for (let i = lineNo - 1; i >= 0; i--) {
    const info = parseLine(lines[i]);
    if (!info) continue;
    if (info.dash && info.contentCol === target && info.indent < target) {
      // We are inside the list item this line starts.
      path.unshift('#');
      target = info.indent;
      afterDash = true;
      continue;
    }
    if (info.key !== undefined && (info.contentCol < target || (afterDash && !info.dash && info.contentCol === target))) {
      path.unshift(info.key);
      target = info.contentCol;
      afterDash = false;
      if (info.dash) {
        path.unshift('#');
        target = info.indent;
        afterDash = true;
      }
      continue;
    }
    if (info.indent < target && !info.key && !info.dash) break;
    if (target === 0 && !afterDash) break;
  }
  return path;
}

/** When the cursor is where a key is typed, the path of the map and the partial key. */
export function keyContext(text: string, offset: number): KeyContext | undefined {
  const lineStart = lineStartOf(text, offset);
  const before = text.slice(lineStart, offset);
  const m = /^(\s*)(-\s+)?([A-Za-z_][\w-]*)?$/.exec(before);
  if (!m) return undefined;
  const lines = linesBefore(text, lineStart);
  const indent = m[1].length;
  const col = indent + (m[2]?.length ?? 0);
  const path = parentPath(lines, lines.length, col, !!m[2], indent);
  const partial = m[3] ?? '';
  return { path, partial, partialStart: offset - partial.length };
}

/** The path of the key under the cursor (for hover): parents plus the key itself. */
export function keyAt(text: string, offset: number): { path: string[]; start: number; end: number } | undefined {
  const lineStart = lineStartOf(text, offset);
  const m = /[\r\n]/.exec(text.slice(offset));
  const lineEnd = m ? offset + m.index : text.length;
  const line = text.slice(lineStart, lineEnd);
  const info = parseLine(line);
  if (!info || info.key === undefined) return undefined;
  const keyStart = lineStart + info.contentCol;
  const keyEnd = keyStart + (line.slice(info.contentCol).match(/^("[^"]*"|'[^']*'|[^:#]*?)\s*:/)?.[1].length ?? info.key.length);
  if (offset < keyStart || offset > keyEnd) return undefined;
  const lines = linesBefore(text, lineStart);
  const path = parentPath(lines, lines.length, info.contentCol, info.dash, info.indent);
  return { path: [...path, info.key], start: keyStart, end: keyEnd };
}

/** When the cursor is inside `${{ ... }}` (or an `if:` value): the chain typed so far. */
export function expressionContext(text: string, offset: number): { chain: string[]; partial: string; partialStart: number } | undefined {
  const lineStart = lineStartOf(text, offset);
  const open = text.lastIndexOf('${{', offset);
  let exprText: string | undefined;
  if (open !== -1 && !text.slice(open, offset).includes('}}')) exprText = text.slice(open + 3, offset);
  else {
    const before = text.slice(lineStart, offset);
    const m = /^\s*(?:-\s+)?if\s*:\s*(.*)$/.exec(before);
    if (m) exprText = m[1];
  }
  if (exprText === undefined) return undefined;
  const m = /((?:[A-Za-z_][\w-]*\.)*)([\w-]*)$/.exec(exprText);
  if (!m) return undefined;
  const chain = m[1] ? m[1].slice(0, -1).split('.') : [];
  return { chain, partial: m[2], partialStart: offset - m[2].length };
}

/** When the cursor is in the value of a `needs:` key (inline or as a list item under it). */
export function inNeeds(text: string, offset: number): { partial: string; partialStart: number } | undefined {
  const lineStart = lineStartOf(text, offset);
  const before = text.slice(lineStart, offset);
  const word = /([\w-]*)$/.exec(before)![1];
  const res = { partial: word, partialStart: offset - word.length };
  if (/^\s*(-\s+)?needs\s*:\s*(\[[^\]]*)?[\w-]*$/.test(before) || /^\s*(-\s+)?needs\s*:\s*\[.*,\s*[\w-]*$/.test(before)) return res;
  if (/^\s*-\s+[\w-]*$/.test(before)) {
    const lines = linesBefore(text, lineStart);
    const indent = /^(\s*)/.exec(before)![1].length;
    const path = parentPath(lines, lines.length, indent, false, indent);
    if (path[path.length - 1] === 'needs') return res;
  }
  return undefined;
}

/** When the cursor is in the value of an `agent:` key. */
export function inAgentValue(text: string, offset: number): { partial: string; partialStart: number } | undefined {
  const lineStart = lineStartOf(text, offset);
  const m = /^\s*(-\s+)?agent\s*:\s*([\w-]*)$/.exec(text.slice(lineStart, offset));
  return m ? { partial: m[2], partialStart: offset - m[2].length } : undefined;
}
