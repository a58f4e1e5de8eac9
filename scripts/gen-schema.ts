/** Writes schemas/workflow.schema.json from the zod schema. `npm run schema`; a test fails when it is stale. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { workflowJsonSchema } from '../server/src/workflow/schema';

export const SCHEMA_FILE = path.join(__dirname, '..', 'schemas', 'workflow.schema.json');

export function renderSchema(): string {
  return JSON.stringify(workflowJsonSchema(), null, 2) + '\n';
}

if (require.main === module) {
  fs.writeFileSync(SCHEMA_FILE, renderSchema());
  console.log(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}`);
}
