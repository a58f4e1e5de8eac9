/**
 * Where each `${{ }}` of a `run:` script lands in the shell's grammar, for the `shell-expression`
 * warnings. The engine never pastes a value into the script: each expression becomes a variable
 * reference `${ORCH_EXPR_<n>}` (expressions/interpolate.ts, prepareScript). Two places defeat that:
 *
 * - where the shell expands nothing (single quotes, `$'…'`, a here-document with a quoted
 *   delimiter), the script sees the text `${ORCH_EXPR_0}` instead of the value;
 * - where bash evaluates a value as arithmetic (`$(( ))`, `(( ))`, `$[ ]`, `let`, the operands of
 *   `-eq`/`-lt`/… inside `[[ ]]`, an array subscript), a value such as `a[$(cmd)]` runs `cmd`.
 *
 * This is a small lexer, not a shell parser: it follows quotes, `$( )`, backquotes, `${ }`,
 * arithmetic, here-documents, comments and command boundaries, which is all these questions need.
 * It never throws; on text it does not understand it reports nothing.
 */

import { Scanner, type ShellPlace } from './shellScanner';

export type { ShellContext, ShellPlace } from './shellScanner';

/**
 * The shell context of each expression (by its index in `exprs`, offsets into `script`) that sits
 * somewhere it does not do what it seems; expressions in ordinary places are absent.
 */
export function shellPlaces(script: string, exprs: readonly { start: number; end: number }[]): Map<number, ShellPlace> {
  const scanner = new Scanner(script, exprs);
  try {
    scanner.commands(0, undefined);
  } catch {
    // A bug here must not cost the other diagnostics; what was found so far stands.
  }
  return scanner.found;
}

/** The warning for an expression at `place`; `variable` is the name the engine gives it (ORCH_EXPR_n), `expr` its text. */
export function shellMessage(place: ShellPlace, variable: string, expr: string): string {
  if (place.context === 'arithmetic') {
    return (
      `this expression is in a shell arithmetic context (${place.construct}): bash evaluates its value as arithmetic, and an array subscript in the value runs commands ` +
      `(an input such as a[$(rm -rf ~)] runs rm), so whoever sets it can run code. Pass the number through env: (env: { N: ${expr} }), ` +
      `check it before any arithmetic ([[ $N =~ ^[0-9]+$ ]] || exit 1), then use $N`
    );
  }
  const where = place.context === 'single-quoted' ? `inside single quotes (${place.construct})` : `in a here-document with a quoted delimiter (${place.construct})`;
  const fix = place.context === 'single-quoted' ? `use double quotes ("${expr}")` : `unquote the delimiter (${place.construct.replace(/['"\\]/g, '')}) so that the body is expanded`;
  return (
    `this expression is ${where}, where the shell expands nothing: the engine passes each expression to the script as an environment variable, ` +
    `so the script sees the text \${${variable}}, not the value; ${fix}`
  );
}
