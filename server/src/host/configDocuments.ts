/**
 * `.orchestrator/config.yaml` (and `~/.orchestrator/config.yaml`) in the editor, as workflow files
 * are served: diagnostics as you type from the config schema's checker (config/check.ts: unknown
 * keys with a did-you-mean, bad values, YAML that does not parse, each at its exact range),
 * completion of keys (only those valid where the cursor is, not already present) and of values
 * with a fixed set (`type:`, `prompt:`), and hover with each key's documentation.
 *
 * The host routes a document here when isConfigUri says so (server.ts); config files are small,
 * so they are checked at once on every change, on the main thread.
 */
import { CompletionItemKind, DiagnosticSeverity, MarkupKind, type CompletionItem, type Diagnostic, type Hover, type Position, type Range } from 'vscode-languageserver';
import { isMap, isScalar, parseDocument } from 'yaml';
import { checkConfigText } from '../config/check';
import { describe, enumValues, keysAt, kindOf, schemaAt } from '../config/nav';
import { configProviderTypes } from '../config/schema';
import { LineIndex } from '../workflow/problems';
import { filePathOf } from './documents';
import { keyAt, keyContext } from './context';

/** Whether a URI names a config file: `.orchestrator/config.yaml` in any folder (the home one too). */
export function isConfigUri(uri: string): boolean {
  const p = decodeURIComponent(uri.replace(/^[a-z]+:\/\//i, '/'));
  return /(^|\/)\.orchestrator\/config\.yaml$/.test(p);
}

export function configDiagnostics(uri: string, text: string): Diagnostic[] {
  const index = new LineIndex(text);
  return checkConfigText(text, filePathOf(uri) ?? uri).problems.map((p) => ({
    range: { start: index.position(p.start), end: index.position(Math.max(p.end, p.start)) },
    severity: p.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: p.code,
    source: 'orchestrator',
    message: p.message,
  }));
}

/** The keys already in the map at a path (from the text as it is, even half typed). */
function presentKeys(text: string, path: readonly string[]): Set<string> {
  let cur: unknown = parseDocument(text).contents;
  for (const seg of path) {
    if (!isMap(cur)) return new Set();
    cur = cur.items.find((p) => isScalar(p.key) && String(p.key.value) === seg)?.value;
  }
  return new Set(isMap(cur) ? cur.items.map((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key))) : []);
}

export function configCompletion(text: string, pos: Position): CompletionItem[] {
  const index = new LineIndex(text);
  const offset = index.offset(pos);
  const range = (start: number): Range => ({ start: index.position(start), end: pos });
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;

  // A value: `type: op|` or `prompt: |`.
  const value = /^(\s*)([A-Za-z_][\w-]*)\s*:\s*([\w-]*)$/.exec(text.slice(lineStart, offset));
  if (value) {
    const ctx = keyContext(text, lineStart + value[1].length + value[2].length);
    const schema = ctx && !ctx.path.includes('#') ? schemaAt([...ctx.path, value[2]]) : undefined;
    const partialStart = offset - value[3].length;
    return (schema ? enumValues(schema) : []).map((v) => ({ label: v, kind: CompletionItemKind.EnumMember, textEdit: { range: range(partialStart), newText: v } }));
  }

  const key = keyContext(text, offset);
  if (!key || key.path.includes('#')) return [];
  const schema = schemaAt(key.path);
  if (!schema) return [];
  const present = presentKeys(text, key.path);
  if (kindOf(schema) === 'entries') {
    // Under providers: the built-in names (an entry of that name configures the built-in).
    if (key.path.join('.') !== 'providers') return [];
    return configProviderTypes()
      .filter((n) => n !== 'command' && (!present.has(n) || n === key.partial))
      .map((n) => ({ label: n, kind: CompletionItemKind.Class, detail: 'built-in provider', textEdit: { range: range(key.partialStart), newText: `${n}:` } }));
  }
  return keysAt(key.path)
    .filter((k) => !present.has(k) || k === key.partial)
    .map((k) => {
      const doc = describe(schemaAt([...key.path, k])!);
      return {
        label: k,
        kind: CompletionItemKind.Property,
        ...(doc ? { documentation: { kind: MarkupKind.Markdown, value: doc } } : {}),
        textEdit: { range: range(key.partialStart), newText: `${k}: ` },
      };
    });
}

export function configHover(text: string, pos: Position): Hover | null {
  const index = new LineIndex(text);
  const k = keyAt(text, index.offset(pos));
  if (!k || k.path.includes('#')) return null;
  const schema = schemaAt(k.path);
  const doc = schema && describe(schema);
  if (!doc) return null;
  return { contents: { kind: MarkupKind.Markdown, value: `**${k.path[k.path.length - 1]}**\n\n${doc}` }, range: { start: index.position(k.start), end: index.position(k.end) } };
}

/** What server.ts asks of an open document: undefined when it is not a config file. */
export class ConfigDocuments {
  constructor(private readonly publish: (uri: string, version: number, diagnostics: Diagnostic[]) => void) {}

  /** Checks an opened or changed document and publishes its diagnostics; false when it is not a config file. */
  update(doc: { uri: string; version: number; getText(): string }): boolean {
    if (!isConfigUri(doc.uri)) return false;
    this.publish(doc.uri, doc.version, configDiagnostics(doc.uri, doc.getText()));
    return true;
  }

  completion(doc: { uri: string; getText(): string } | undefined, pos: Position): CompletionItem[] | undefined {
    return doc && isConfigUri(doc.uri) ? configCompletion(doc.getText(), pos) : undefined;
  }

  hover(doc: { uri: string; getText(): string } | undefined, pos: Position): Hover | null | undefined {
    return doc && isConfigUri(doc.uri) ? configHover(doc.getText(), pos) : undefined;
  }
}
