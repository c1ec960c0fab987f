/**
 * The demo users' second factor: a real RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as an authenticator app computes it.
 * Each user's secret is generated at first run, kept in the data directory (0600) and shown on the demo users page,
 * so it can be added to any authenticator app or computed by tests.
 */
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { readJson, writeSecretFile } from './keys';
import type { DemoUser } from './users';

export { MFA_ACR } from '../../../lib/defaults';

const totpFor = (secret: string, label = 'Deputy') =>
  new TOTP({ issuer: 'Deputy IdP emulator', label, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });

/** Base32 TOTP secret per user sub, created on first use and kept across restarts. */
export function loadOrCreateTotpSecrets(dataDir: string, users: readonly DemoUser[]): Map<string, string> {
  const file = path.join(dataDir, 'totp.json');
  const raw = readJson(file);
  const stored: Record<string, string> = raw && typeof raw === 'object' ? { ...(raw as Record<string, string>) } : {};
  let changed = false;
  for (const u of users) {
    if (typeof stored[u.sub] !== 'string' || !/^[A-Z2-7]{32}$/.test(stored[u.sub]!)) {
      stored[u.sub] = new Secret({ size: 20 }).base32;
      changed = true;
    }
  }
  if (changed) writeSecretFile(file, stored);
  return new Map(users.map((u) => [u.sub, stored[u.sub]!]));
}

/** Is `code` the current TOTP (or the one before or after, for clock drift) of `secret`? */
export function verifyTotp(secret: string, code: string): boolean {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return false;
  return totpFor(secret).validate({ token, window: 1 }) !== null;
}

/** The code an authenticator app shows now (tests and the demo script type it). */
export function currentTotp(secret: string, at = Date.now()): string {
  return totpFor(secret).generate({ timestamp: at });
}

/** `otpauth://` URI for adding the secret to an authenticator app. */
export function totpUri(secret: string, user: DemoUser): string {
  return totpFor(secret, user.email).toString();
}
