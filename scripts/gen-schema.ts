/** Writes schemas/workflow.schema.json and schemas/config.schema.json from the zod schemas. `npm run schema`; a test fails when one is stale. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configJsonSchema } from '../server/src/config/schema';
import { workflowJsonSchema } from '../server/src/workflow/schema';

export const SCHEMA_FILE = path.join(__dirname, '..', 'schemas', 'workflow.schema.json');
export const CONFIG_SCHEMA_FILE = path.join(__dirname, '..', 'schemas', 'config.schema.json');

export function renderSchema(): string {
  return JSON.stringify(workflowJsonSchema(), null, 2) + '\n';
}

export function renderConfigSchema(): string {
  return JSON.stringify(configJsonSchema(), null, 2) + '\n';
}

if (require.main === module) {
  for (const [file, text] of [[SCHEMA_FILE, renderSchema()], [CONFIG_SCHEMA_FILE, renderConfigSchema()]] as const) {
    fs.writeFileSync(file, text);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}
