/** Entry of the orchestrator host: `node server/out/server.js --stdio`. */
import { startServer } from './host/server';

process.on('uncaughtException', (e) => {
  // Never die on a bug: say it on stderr (the client's output channel) and keep serving.
  process.stderr.write(`orchestrator host: internal error (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
});
process.on('unhandledRejection', (e) => {
  process.stderr.write(`orchestrator host: unhandled rejection (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
});

startServer();
