/**
 * The host's setup requests (protocol/setup.ts): `init` and the secrets commands, a thin door onto
 * setup/ — the same code as `orchestrator init` and `orchestrator secrets`. A user's mistake (a bad
 * name, a secret git would commit, a folder that cannot be written) answers as an error whose
 * message says what to do. A secret's value is never logged, not even in an internal error.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { Connection } from 'vscode-languageserver/node';
import { InitRequest, ListSecretsRequest, SetSecretRequest, TestSecretRequest, type RequestDescriptor } from '../protocol';
import { InitError, initRepository } from '../setup/init';
import { listSecrets, testSecret } from '../setup/secretReport';
import { badSecretName, SecretWriteError, setSecret } from '../setup/secretStore';
import type { Logger } from './documents';

export function registerSetupRequests(connection: Connection, repoRoot: () => string | undefined, log: Logger): void {
  const root = (): string => {
    const r = repoRoot();
    if (!r) throw new Error('no folder is open: open a repository first');
    return r;
  };
  const handle = <P, R>(req: RequestDescriptor<P, R>, f: (params: P) => R | Promise<R>): void => {
    connection.onRequest(req.method, async (params: P): Promise<R> => {
      try {
        return await f(params);
      } catch (e) {
        if (e instanceof InitError || e instanceof SecretWriteError) throw new Error(e.message);
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new Error(`cannot write there (${code}): check the folder's owner and permissions`);
        // The method only: the params may hold a secret's value.
        log.error(`internal error in ${req.method} (please report it): ${e instanceof Error ? e.message : String(e)}`);
        throw new Error(`internal error in ${req.method}: see the Orchestrator output`);
      }
    });
  };

  handle(InitRequest, (p) =>
    initRepository({ repoRoot: root(), ...(typeof p.portable === 'boolean' ? { portable: p.portable } : {}), ...(p.workflowName !== undefined ? { workflowName: p.workflowName } : {}), homeDir: os.homedir() }),
  );
  handle(ListSecretsRequest, () => listSecrets({ repoRoot: root() }));
  handle(TestSecretRequest, (p) => {
    const bad = badSecretName(p.name);
    if (bad) throw new SecretWriteError(bad);
    return testSecret(p.name, { repoRoot: root() });
  });
  handle(SetSecretRequest, async (p) => {
    const home = os.homedir();
    const r = root();
    if (typeof p.value !== 'string') throw new SecretWriteError('no value was given: nothing was written');
    const res = await setSecret(p.name, p.value, p.global ? { scope: 'home', homeDir: home } : { scope: 'repo', repoRoot: r }, { env: process.env, repoRoot: r, homeDir: home });
    const warnings: string[] = [];
    if (res.shadowedBy) warnings.push(`${res.shadowedBy.kind === 'env' ? res.shadowedBy.at : path.relative(r, res.shadowedBy.at) || res.shadowedBy.at} wins over it: sessions get that value, not this one`);
    if (res.looseDir !== undefined) warnings.push(`other users can list ${path.dirname(res.file)}: chmod 700 it`);
    return { file: res.file, replaced: res.replaced, warnings };
  });
}
