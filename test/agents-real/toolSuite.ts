/**
 * What every real-CLI suite of one tool needs: the tool's binary (or a clear failure saying how to
 * install it), a fake model server of its own and a temp folder, made in `before` and removed in
 * `after`. Call it inside the tool's `describe`.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { FakeModelServer } from '../helpers/fakeModels/index';
import { toolBin } from './runTool';
import { BIN_ENV, type AgentTool } from './setup';

export interface ToolSuite {
  readonly bin: string | undefined;
  /** The suite's fake model server (from `before` on). */
  readonly fake: FakeModelServer;
  /** A fresh folder for one test, inside the suite's temp folder. */
  nextDir(): string;
}

export function useTool(tool: AgentTool, prefix: string): ToolSuite {
  const bin = toolBin(tool);
  let fake: FakeModelServer | undefined;
  let root = '';
  let n = 0;
  before(async () => {
    assert.ok(bin, `${tool} is not installed: run test/agents-real/run.ts (or set ${BIN_ENV[tool]})`);
    fake = await FakeModelServer.start();
    root = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-${tool}-`));
  });
  after(async () => {
    await fake?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });
  return {
    bin,
    get fake(): FakeModelServer {
      assert.ok(fake, 'the fake model server is made in before()');
      return fake;
    },
    nextDir: () => path.join(root, String(++n)),
  };
}
