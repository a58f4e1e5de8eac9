import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { renderSchema, SCHEMA_FILE } from '../../scripts/gen-schema';
import { descriptionAt, keysAt } from '../../server/src/workflow/schemaNav';

const root = path.join(__dirname, '..', '..');

describe('JSON Schema', () => {
  it('schemas/workflow.schema.json is generated from the zod schema and up to date (run `npm run schema`)', () => {
    assert.equal(fs.readFileSync(SCHEMA_FILE, 'utf8'), renderSchema());
  });

  it('package.json contributes it under yamlValidation for every workflow file pattern', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { contributes: { yamlValidation: { fileMatch: string; url: string }[] } };
    const matches = pkg.contributes.yamlValidation.map((v) => v.fileMatch);
    for (const m of ['workflow.yaml', '*.workflow.yaml', '*.workflow.yml', '.orchestrator/workflows/**/*.yaml', '.orchestrator/workflows/**/*.yml']) assert.ok(matches.includes(m), m);
    for (const v of pkg.contributes.yamlValidation) assert.ok(fs.existsSync(path.join(root, v.url)));
  });

  it('every key of every object has a description (hover text)', () => {
    const objects: (string | number)[][] = [[], ['steps', 0], ['pipeline', 0], ['agents', 'x'], ['inputs', 'x'], ['defaults'], ['steps', 0, 'retry']];
    for (const p of objects) {
      const keys = keysAt(p);
      assert.ok(keys.length > 0, `keys at ${p.join('.')}`);
      for (const k of keys) assert.ok(descriptionAt([...p, k]), `description of ${[...p, k].join('.')}`);
    }
  });
});
