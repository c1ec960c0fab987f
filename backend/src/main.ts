/** Runs the backend alone, configured from the environment (see README: "Pointing at real services"). */
import { loadConfig } from './config';
import { startBackend } from './server';

const config = loadConfig();
const backend = await startBackend(config, (line) => console.error(line));
console.log(`Deputy backend listening on ${backend.url} (issuer ${config.auth.issuer}, model ${config.model.name})`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void backend.close().then(() => process.exit(0)));
}
