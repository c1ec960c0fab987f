/**
 * Key material of the identity emulator, generated at first run and kept in its data directory (never in git):
 * - `jwks.json`: the private RS256 signing key set (tokens stay verifiable across restarts),
 * - `secrets.json`: cookie signing keys and the confidential backend client's secret.
 * Files are written with mode 0600 through a temporary file and a rename.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

export interface SigningKeys {
  /** Private JWK set handed to oidc-provider. */
  privateJwks: { keys: JWK[] };
  /** The same keys without private members. */
  publicJwks: { keys: JWK[] };
}

export interface IdpSecrets {
  cookieKeys: string[];
  backendClientSecret: string;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export function toPublicJwk(jwk: JWK): JWK {
  const pub: JWK = { ...jwk };
  for (const m of PRIVATE_MEMBERS) delete (pub as Record<string, unknown>)[m];
  return pub;
}

export function writeSecretFile(file: string, data: unknown): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`identity emulator: cannot read ${path.basename(file)} in its data directory (${(err as Error).message}); delete the file to regenerate it`);
  }
}

function isSigningJwkSet(v: unknown): v is { keys: JWK[] } {
  if (!v || typeof v !== 'object' || !Array.isArray((v as { keys?: unknown }).keys)) return false;
  const keys = (v as { keys: unknown[] }).keys;
  return keys.length > 0 && keys.every((k) => !!k && typeof k === 'object' && (k as JWK).kty === 'RSA' && typeof (k as JWK).d === 'string' && typeof (k as JWK).kid === 'string');
}

async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
}

export async function loadOrCreateSigningKeys(dataDir: string): Promise<SigningKeys> {
  const file = path.join(dataDir, 'jwks.json');
  let stored = readJson(file);
  if (stored === undefined) {
    stored = { keys: [await generateSigningKey()] };
    writeSecretFile(file, stored);
  }
  if (!isSigningJwkSet(stored)) {
    throw new Error('identity emulator: jwks.json in its data directory is not a private RSA JWK set; delete it to regenerate the signing key');
  }
  return { privateJwks: stored, publicJwks: { keys: stored.keys.map(toPublicJwk) } };
}

const randomSecret = (bytes: number) => randomBytes(bytes).toString('base64url');

export function loadOrCreateSecrets(dataDir: string): IdpSecrets {
  const file = path.join(dataDir, 'secrets.json');
  const raw = readJson(file);
  const stored = (raw && typeof raw === 'object' ? raw : {}) as Partial<IdpSecrets> & Record<string, unknown>;
  let changed = raw === undefined;
  let { cookieKeys, backendClientSecret } = stored;
  if (!Array.isArray(cookieKeys) || cookieKeys.length === 0 || !cookieKeys.every((k) => typeof k === 'string' && k.length >= 32)) {
    cookieKeys = [randomSecret(32), randomSecret(32)];
    changed = true;
  }
  if (typeof backendClientSecret !== 'string' || backendClientSecret.length < 32) {
    backendClientSecret = randomSecret(48);
    changed = true;
  }
  // Other members (written by later features) are kept as they are.
  if (changed) writeSecretFile(file, { ...stored, cookieKeys, backendClientSecret });
  return { cookieKeys, backendClientSecret };
}
