/**
 * An ESLint 9 formatter that writes SARIF 2.1.0: `eslint --format ./scripts/eslint-sarif.cjs`.
 *
 * ESLint's formatter API (a module exporting `(results, context) => string`) gives everything SARIF
 * needs: the rules' metadata in `context.rulesMeta`, the files and their messages in `results`.
 * It replaces `@microsoft/eslint-formatter-sarif`, whose `"jschardet": "latest"` made the lock file go
 * stale by itself and which pulled a second, old ESLint into the tree. Tests validate its output against
 * the official SARIF 2.1.0 schema.
 */
'use strict';
const { pathToFileURL } = require('node:url');

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

/** ESLint severity (1 warn, 2 error; fatal parse errors are 2) → SARIF level. */
function level(m) {
  return m.fatal || m.severity === 2 ? 'error' : 'warning';
}

module.exports = function sarif(results, context) {
  const rulesMeta = (context && context.rulesMeta) || {};
  const rules = [];
  const ruleIndex = new Map();
  const ruleOf = (id) => {
    if (ruleIndex.has(id)) return ruleIndex.get(id);
    const meta = rulesMeta[id] || {};
    const docs = meta.docs || {};
    const rule = { id };
    if (docs.description) rule.shortDescription = { text: docs.description };
    if (docs.url) rule.helpUri = docs.url;
    ruleIndex.set(id, rules.length);
    rules.push(rule);
    return rules.length - 1;
  };
  const out = [];
  for (const file of results) {
    const uri = pathToFileURL(file.filePath).href;
    for (const m of file.messages) {
      const region = {};
      if (Number.isInteger(m.line) && m.line >= 1) {
        region.startLine = m.line;
        if (Number.isInteger(m.column) && m.column >= 1) region.startColumn = m.column;
        if (Number.isInteger(m.endLine) && m.endLine >= m.line) region.endLine = m.endLine;
        if (Number.isInteger(m.endColumn) && m.endColumn >= 1) region.endColumn = m.endColumn;
      }
      const result = {
        level: level(m),
        message: { text: m.message },
        locations: [{ physicalLocation: { artifactLocation: { uri }, ...(region.startLine ? { region } : {}) } }],
      };
      if (m.ruleId) {
        result.ruleId = m.ruleId;
        result.ruleIndex = ruleOf(m.ruleId);
      }
      out.push(result);
    }
  }
  const version = (() => {
    try {
      return require('eslint/package.json').version;
    } catch {
      return undefined;
    }
  })();
  const log = {
    $schema: SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'ESLint', informationUri: 'https://eslint.org', ...(version ? { version } : {}), rules } },
        results: out,
      },
    ],
  };
  return JSON.stringify(log, null, 2);
};
