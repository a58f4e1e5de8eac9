/** The commented starter workflow: `orchestrator init` and the editor's "Create a Workflow" write it to .orchestrator/workflows/. */
export const STARTER_WORKFLOW = `# A workflow: steps that run as a DAG. Each step runs when the steps in its \`needs\` are done;
# steps with nothing between them run in parallel (up to \`concurrency\`).
# Run it: "Orchestrator: Start Orchestration" (command palette), the "Run workflow" lens above,
# or \`orchestrator run <this file>\` in a terminal. The language: hover over any key for what it
# means and takes, and press Ctrl+Space for what fits where the cursor is (keys, step ids, \`\${{ }}\`).
version: 1
name: Starter
description: Check, test, then summarise.

# Asked for when the session starts (a quick pick for enums, an input box otherwise).
inputs:
  target:
    description: What to check
    default: .

defaults:
  timeout: 10m       # each attempt of a step is killed after this long
  stuck_after: 2m    # a step silent this long shows in the Stuck view

concurrency: 2

steps:
  - id: list
    name: List files
    # Inputs reach the script as environment variables, never pasted into its text.
    run: ls -la "\${{ inputs.target }}"

  - id: todos
    name: Find TODOs
    # \`::finding ...::message\` lines become findings (Findings view, Problems panel).
    # Scripts run with \`set -e -o pipefail\`: \`|| true\` keeps "no TODO found" (grep exits 1) from failing it.
    run: |
      { grep -rnE '\\bTODO\\b' --include='*.ts' --include='*.js' "\${{ inputs.target }}" 2>/dev/null || true; } | head -20 |
      while IFS=: read -r file line text; do
        echo "::finding severity=info file=$file line=$line rule=todo::$text"
      done
      echo "done=yes" >> "$ORCHESTRATOR_OUTPUT"   # an output for later steps

  - id: summary
    name: Summary
    needs: [list, todos]
    run: echo "Checked \${{ inputs.target }}; TODO scan done=\${{ steps.todos.outputs.done }}"
`;
