/**
 * Validation against the official SARIF 2.1.0 JSON Schema (OASIS, draft-04; a copy of
 * shared/schemas/sarif-schema-2.1.0.json lives in test/fixtures/sarif/). Every SARIF file the
 * project writes is checked with this in tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';

const SCHEMA = path.resolve(import.meta.dirname, '..', 'fixtures', 'sarif', 'sarif-schema-2.1.0.json');

let validator: ((data: unknown) => boolean) & { errors?: unknown } | undefined;

/** Throws with the schema's own error list when `log` is not valid SARIF 2.1.0. */
export function assertValidSarif(log: unknown, what = 'SARIF log'): void {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    validator = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA, 'utf8')) as object);
  }
  if (!validator(log)) {
    throw new Error(`${what} does not validate against the SARIF 2.1.0 schema:\n${JSON.stringify(validator.errors, null, 1).slice(0, 4000)}`);
  }
}
