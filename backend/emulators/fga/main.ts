/**
 * Runs the OpenFGA-compatible server on its own: `npx tsx backend/emulators/fga/main.ts`.
 * Environment: FGA_PORT (default 8080, OpenFGA's HTTP port), FGA_HOST (default 127.0.0.1),
 * DATA_DIR (default .deputy/fga; `memory` keeps everything in memory), FGA_DEBUG=1 for a request log.
 */
import path from 'node:path';
import { startFgaServer } from './server';

const rawPort = process.env.FGA_PORT ?? '8080';
const port = Number(rawPort);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`FGA_PORT must be a port number (got "${rawPort}")`);
  process.exit(2);
}
const dataDirEnv = process.env.DATA_DIR || path.join('.deputy', 'fga');
const fga = await startFgaServer({
  port,
  host: process.env.FGA_HOST || undefined,
  dataDir: dataDirEnv === 'memory' ? undefined : path.resolve(dataDirEnv),
  log: process.env.FGA_DEBUG === '1' ? (line) => console.log(line) : undefined,
});
console.log(`Deputy FGA server (OpenFGA-compatible, offline) at ${fga.url}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void fga.close().then(() => process.exit(0));
  });
}
