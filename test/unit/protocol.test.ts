import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as protocol from '../../server/src/protocol';

describe('protocol module', () => {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'protocol.md'), 'utf8');

  it('every message is documented in docs/protocol.md under its constant name and method', () => {
    for (const [name, msg] of Object.entries(protocol.ALL_MESSAGES)) {
      assert.ok(doc.includes(`\`${msg.method}\` — \`${name}\``), `${name} (${msg.method}) is not documented`);
    }
  });

  it('every method is under the orchestrator/ prefix and unique', () => {
    const methods = Object.values(protocol.ALL_MESSAGES).map((m) => m.method);
    assert.equal(new Set(methods).size, methods.length);
    for (const m of methods) assert.match(m, /^orchestrator\/[a-z][A-Za-z/]*$/);
  });

  it('every exported descriptor is listed in ALL_MESSAGES', () => {
    const listed = new Set(Object.values(protocol.ALL_MESSAGES));
    for (const [name, v] of Object.entries(protocol)) {
      if (v && typeof v === 'object' && 'method' in v && name !== 'ALL_MESSAGES') assert.ok(listed.has(v), `${name} is missing from ALL_MESSAGES`);
    }
  });
});
