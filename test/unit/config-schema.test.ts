/**
 * schemas/config.schema.json: generated from the zod schema of config.yaml and kept up to date,
 * contributed to the YAML extension, and saying what the checker says (ajv on the same documents).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { CONFIG_SCHEMA_FILE, renderConfigSchema } from '../../scripts/gen-schema';
import { checkConfigText } from '../../server/src/config/check';
import { envName } from '../../server/src/config/envNames';
import { describe as describeSchema, fixedLeafPaths, keysAt, schemaAt } from '../../server/src/config/nav';
import { configTemplate } from '../../server/src/config/template';

const root = path.join(__dirname, '..', '..');

describe('config JSON Schema', () => {
  it('schemas/config.schema.json is generated from the zod schema and up to date (run `npm run schema`)', () => {
    assert.equal(fs.readFileSync(CONFIG_SCHEMA_FILE, 'utf8'), renderConfigSchema());
  });

  it('package.json contributes it under yamlValidation for .orchestrator/config.yaml, and the package ships it', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { contributes: { yamlValidation: { fileMatch: string; url: string }[] } };
    const entry = pkg.contributes.yamlValidation.find((v) => v.fileMatch === '.orchestrator/config.yaml');
    assert.equal(entry?.url, './schemas/config.schema.json');
    assert.ok(fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n').includes('!schemas/config.schema.json'));
  });

  it('every key of every map has a description (hover text and the docs)', () => {
    for (const p of [[], ['retention'], ['providers', 'x'], ['prices', 'x']]) {
      const keys = keysAt(p);
      assert.ok(keys.length > 0, `keys at ${p.join('.')}`);
      for (const k of keys) assert.ok(describeSchema(schemaAt([...p, k])!), `description of ${[...p, k].join('.')}`);
    }
  });

  it('the JSON Schema and the checker agree on what is valid', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(CONFIG_SCHEMA_FILE, 'utf8')) as object);
    const cases: [string, boolean][] = [
      ['concurrency: 4\nstuck_after: 90s\n', true],
      ['retention: { keep: 10, max_age: 30d, max_size: 2GB }\n', true],
      ['retention: { max_size: 512mib }\n', true],
      ['providers:\n  local: { type: openai, base_url: "http://x/v1", model: m, timeout: 5m }\n  t: { type: command, command: [a, b], prompt: arg, env: { A: "1" } }\n', true],
      ['prices:\n  m: { input: 3, output: 15, cache_read: 0.3 }\n', true],
      ['concurency: 4\n', false],
      ['concurrency: 0\n', false],
      ['retention: { keep: -1 }\n', false],
      ['retention: { max_size: lots }\n', false],
      ['providers:\n  local: { type: opneai }\n', false],
      ['providers:\n  local: { prompt: pipe }\n', false],
      ['prices:\n  m: { input: 3 }\n', false],
    ];
    for (const [text, valid] of cases) {
      assert.equal(validate(parse(text)), valid, `ajv: ${text}`);
      assert.equal(checkConfigText(text, 'x.yaml').problems.length === 0, valid, `checker: ${text}`);
    }
  });
});

describe('the commented config.yaml (configTemplate)', () => {
  it('sets nothing as it is, and every setting line uncommented gives a valid file with every setting', () => {
    const text = configTemplate();
    const asIs = checkConfigText(text, 'config.yaml');
    assert.deepEqual([asIs.problems, asIs.leaves], [[], []]);
    const uncommented = text.replace(/^# ( *[a-z_][\w-]*:(?: |$))/gm, '$1');
    const all = checkConfigText(uncommented, 'config.yaml');
    assert.deepEqual(all.problems, []);
    const set = all.leaves.map((l) => l.path.join('.'));
    for (const k of ['concurrency', 'stuck_after', 'retention.keep', 'retention.max_age', 'retention.max_size', 'providers.local.type', 'prices.claude-sonnet-4-5.input']) assert.ok(set.includes(k), `${k} in ${set.join(', ')}`);
  });
});

describe('docs/configuration.md', () => {
  it('lists every setting with its variable (keep it in step with the schema)', () => {
    const doc = fs.readFileSync(path.join(root, 'docs', 'configuration.md'), 'utf8');
    for (const p of fixedLeafPaths()) {
      assert.ok(doc.includes(`| \`${p.join('.')}\` |`), `a table row for ${p.join('.')}`);
      assert.ok(doc.includes(envName(p)), envName(p));
    }
    for (const section of ['providers', 'prices']) {
      const placeholder = section === 'providers' ? 'NAME' : 'MODEL';
      for (const k of keysAt([section, 'x'])) {
        assert.ok(doc.includes(`| \`${section}.${placeholder}.${k}\` |`), `a table row for ${section}.${placeholder}.${k}`);
        assert.ok(doc.includes(envName([section, placeholder, k])), envName([section, placeholder, k]));
      }
    }
  });
});
