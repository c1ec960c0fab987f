/**
 * Runs the identity emulator on its own: `npx tsx backend/emulators/idp/main.ts`.
 * Environment: IDP_PORT (default 8788), IDP_HOST (default localhost), DATA_DIR (default .deputy/idp),
 * ACCESS_TOKEN_TTL_SECONDS, IDP_DEBUG=1 for a request and error log (never tokens or secrets).
 */
import path from 'node:path';
import { DEFAULT_PORTS } from '../../../lib/defaults';
import { startIdp } from './index';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`${name} must be a non-negative integer (got "${raw}")`);
    process.exit(2);
  }
  return n;
}

const idp = await startIdp({
  port: intFromEnv('IDP_PORT', DEFAULT_PORTS.idp),
  host: process.env.IDP_HOST || undefined,
  dataDir: path.resolve(process.env.DATA_DIR || path.join('.deputy', 'idp')),
  accessTokenTtlSeconds: process.env.ACCESS_TOKEN_TTL_SECONDS ? intFromEnv('ACCESS_TOKEN_TTL_SECONDS', 3600) : undefined,
});

console.log(`Deputy identity emulator (Auth0-compatible, offline) at ${idp.url}`);
console.log(`  issuer     ${idp.issuer}`);
console.log(`  discovery  ${idp.url}/.well-known/openid-configuration`);
console.log(`  demo users ${idp.url}/demo-users  (${idp.users.map((u) => u.email).join(', ')})`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void idp.close().then(() => process.exit(0));
  });
}
