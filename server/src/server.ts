/** Entry of the orchestrator host: `node server/out/server.js --stdio`, and of its validation worker. */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { WORKER_ROLE } from './host/offThread';
import { startServer } from './host/server';
import { startValidationWorker } from './host/validationWorker';

process.on('uncaughtException', (e) => {
  // Never die on a bug: say it on stderr (the client's output channel) and keep serving.
  process.stderr.write(`orchestrator host: internal error (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
});
process.on('unhandledRejection', (e) => {
  process.stderr.write(`orchestrator host: unhandled rejection (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
});

if (!isMainThread && parentPort && (workerData as { role?: string } | null)?.role === WORKER_ROLE) startValidationWorker(parentPort);
else startServer(undefined, __filename);
