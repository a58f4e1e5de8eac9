// Bundles the @vscode/test-electron suite (test/vscode) into test/vscode/out.
import * as esbuild from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };
await esbuild.build({ ...common, entryPoints: ['test/vscode/runTest.ts'], outfile: 'test/vscode/out/runTest.js', external: ['@vscode/test-electron'] });
await esbuild.build({ ...common, entryPoints: ['test/vscode/suite.ts'], outfile: 'test/vscode/out/suite.js', external: ['vscode'] });
