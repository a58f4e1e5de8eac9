// Type-aware lint. Layer boundaries are rules, not hopes: the engine (workflow/, engine/, store/)
// imports nothing from VS Code or the LSP libraries; only host/ talks LSP; only client/ imports vscode.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const editorAndLsp = {
  paths: [
    { name: 'vscode', message: 'The engine is headless: no VS Code imports here.' },
    { name: 'vscode-languageserver', message: 'Only server/src/host may use the LSP libraries.' },
    { name: 'vscode-languageserver/node', message: 'Only server/src/host may use the LSP libraries.' },
    { name: 'vscode-languageclient', message: 'Only client/ may use the language client.' },
    { name: 'vscode-jsonrpc', message: 'Only the protocol module and host/ may use JSON-RPC.' },
  ],
  patterns: [{ group: ['**/host/*', '**/host', '**/client/**'], message: 'The engine must not depend on its doors (host, client).' }],
};

export default tseslint.config(
  { ignores: ['**/out/**', 'node_modules/**', '.bench/**', '.test-tmp/**', 'eslint.config.mjs', 'scripts/*.mjs', 'scripts/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'error',
    },
  },
  // The webview's script is plain browser JS (no build step): lint it without type information.
  { files: ['media/**/*.js'], ...tseslint.configs.disableTypeChecked },
  { files: ['media/**/*.js'], languageOptions: { sourceType: 'script', globals: { window: 'readonly', document: 'readonly', acquireVsCodeApi: 'readonly', setTimeout: 'readonly' } } },
  { files: ['server/src/workflow/**', 'server/src/engine/**', 'server/src/store/**', 'server/src/doctor/**', 'server/src/setup/**', 'server/src/config/**'], rules: { 'no-restricted-imports': ['error', editorAndLsp] } },
  {
    files: ['server/src/cli.ts', 'server/src/cli/**'],
    rules: { 'no-restricted-imports': ['error', { paths: editorAndLsp.paths, patterns: [{ group: ['**/host/*', '**/client/**'], message: 'The CLI is a door onto the engine, not onto the host.' }] }] },
  },
  {
    files: ['test/**', 'scripts/**'],
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach'] }] }],
      'no-console': 'off', '@typescript-eslint/no-unsafe-assignment': 'off', '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
