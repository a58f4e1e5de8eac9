/**
 * The file a step writes to `$ORCHESTRATOR_OUTPUT` (workflow-format.md, Expressions), in the format
 * of GitHub Actions' `$GITHUB_OUTPUT`:
 *
 *     name=value              one line; the value is everything after the first `=`, verbatim
 *     name<<DELIM             a multi-line value: the lines up to the line that is exactly DELIM,
 *     line 1                  joined with "\n" (no trailing newline)
 *     DELIM
 *
 * Later duplicates win. Blank lines between entries are ignored (inside a multi-line value they are
 * part of the value). CRLF line ends are accepted. Nothing here throws: a malformed line is skipped
 * and reported as a warning with its line number and what to write instead.
 *
 * Choices where GitHub's format is loose:
 * - A line with both `=` and `<<` is a heredoc start only if `<<` comes first (`a<<EOF`), so
 *   `cmd=a<<b` is the value `a<<b`, as the Actions runner does.
 * - Names are not trimmed: `name =x` is reported (an invalid name), so a typo does not silently
 *   create an output no expression can read.
 * - A heredoc that is never closed sets nothing (its value may be truncated) and is reported.
 * - A heredoc start with an invalid name still consumes its body up to the delimiter, so the body
 *   is not misread as `name=value` lines.
 */

export const OUTPUT_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export interface ParsedOutputs {
  outputs: Record<string, string>;
  warnings: string[];
}

const HINT = 'write name=value, or name<<EOF, the lines, then EOF alone on a line for a multi-line value';

function describeLine(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

function badName(name: string): string {
  return name === ''
    ? 'the output name is empty'
    : `${describeLine(name)} is not a valid output name (letters, digits, _ and -, not starting with a digit or -)`;
}

export function parseOutputs(text: string): ParsedOutputs {
  // Own-property-free map: a name such as `__proto__` or `constructor` must be an ordinary key.
  const outputs: Record<string, string> = Object.create(null) as Record<string, string>;
  const warnings: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  // A final newline yields one empty last element: not a line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const lineNo = i + 1;
    if (line.trim() === '') continue;

    const eq = line.indexOf('=');
    const hd = line.indexOf('<<');
    if (hd >= 0 && (eq < 0 || hd < eq)) {
      const name = line.slice(0, hd);
      const delim = line.slice(hd + 2);
      if (delim.trim() === '') {
        warnings.push(`line ${lineNo}: ${describeLine(line)} starts a multi-line value without a delimiter: ${HINT}`);
        continue;
      }
      const body: string[] = [];
      let end = -1;
      for (let j = i + 1; j < lines.length; j++) {
        if (lines[j] === delim) {
          end = j;
          break;
        }
        body.push(lines[j]);
      }
      if (end < 0) {
        warnings.push(
          `line ${lineNo}: the multi-line value ${describeLine(name)} is never closed: add a line containing only ${describeLine(delim)} after its last line (the output was not set)`,
        );
        break; // Everything after the start belongs to the unclosed value.
      }
      if (OUTPUT_NAME_PATTERN.test(name)) outputs[name] = body.join('\n');
      else warnings.push(`line ${lineNo}: ${badName(name)}; the multi-line value up to line ${end + 1} was skipped`);
      i = end;
      continue;
    }

    if (eq < 0) {
      warnings.push(`line ${lineNo}: ${describeLine(line)} is not an output: ${HINT}`);
      continue;
    }
    const name = line.slice(0, eq);
    if (!OUTPUT_NAME_PATTERN.test(name)) {
      warnings.push(`line ${lineNo}: ${badName(name)}: ${HINT}`);
      continue;
    }
    outputs[name] = line.slice(eq + 1);
  }
  // Hand back an ordinary object (callers may spread or JSON it).
  return { outputs: { ...outputs }, warnings };
}
