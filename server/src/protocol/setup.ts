/**
 * Setting a repository up from the editor: `init` (the editor's *Create a Workflow* and
 * *Initialize Repository*) and the secrets commands, answered by the host with the same code as
 * `orchestrator init` and `orchestrator secrets`. Part of the protocol module (index.ts re-exports
 * it); documented in docs/protocol.md, "Setup". Descriptors are plain objects here (no runtime
 * import of index.ts, which imports this file).
 */
import type { InitReport } from '../setup/init';
import type { SecretListing, SecretTest } from '../setup/secretReport';
import type { RequestDescriptor } from './index';

export type { InitReport, SecretListing, SecretTest };
export type { InitItem, InitAction } from '../setup/init';
export type { SecretEntry, SourceDto } from '../setup/secretReport';

export interface InitParams {
  /** true: portable mode; false: normal mode; absent: the folder's mode as it is (normal for a new one). */
  portable?: boolean;
  /** A file name in .orchestrator/workflows/ for the starter workflow (else starter.yaml, only when there is no workflow yet). */
  workflowName?: string;
}

export interface SetSecretParams {
  name: string;
  /** The value: written only to the secret's file (mode 0600), never logged. */
  value: string;
  /** In ~/.orchestrator/secrets/ instead of the repository's .orchestrator/secrets/. */
  global?: boolean;
}
export interface SetSecretResult {
  /** The file written (absolute). */
  file: string;
  replaced: boolean;
  /** Things the user should know (another place wins over it, a folder others can list). */
  warnings: string[];
}

/** client → host: set up `.orchestrator/` (what `orchestrator init` does); a failure is an error whose message says what to do. */
export const InitRequest: RequestDescriptor<InitParams, InitReport> = { method: 'orchestrator/setup/init' };
/** client → host: every secret name, where it resolves from, which workflows read it (no values). */
export const ListSecretsRequest: RequestDescriptor<Record<string, never>, SecretListing> = { method: 'orchestrator/secrets/list' };
/** client → host: write a secret's file (mode 0600, atomically); refused when git would commit it. */
export const SetSecretRequest: RequestDescriptor<SetSecretParams, SetSecretResult> = { method: 'orchestrator/secrets/set' };
/** client → host: resolve one secret as a session would and say from where (no value). */
export const TestSecretRequest: RequestDescriptor<{ name: string }, SecretTest> = { method: 'orchestrator/secrets/test' };
