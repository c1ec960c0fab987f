/**
 * Connected accounts per user (Auth0's Token Vault): one account per user and connection, holding the provider's
 * tokens. Persisted to one JSON file (mode 0600) in the IdP's data directory so that connections survive a restart,
 * like a real tenant. The provider tokens never leave the IdP except through the Token Vault grant.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { ConnectedAccount as MyAccountConnectedAccount } from '../../../lib/my-account';
import { writeSecretFile } from './keys';
import type { UpstreamTokens } from './upstream';

export interface ConnectedAccount {
  id: string;
  sub: string;
  connection: string;
  /** Scopes the provider granted. */
  scopes: string[];
  createdAt: string;
  tokens: UpstreamTokens;
}

export class ConnectedAccountStore {
  private accounts: ConnectedAccount[] = [];

  constructor(private readonly file: string | undefined) {
    if (!file) return;
    try {
      const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { accounts?: ConnectedAccount[] };
      if (Array.isArray(raw.accounts)) this.accounts = raw.accounts;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`identity emulator: cannot read ${file}; delete it to start without connected accounts`);
    }
  }

  list(sub: string, connection?: string): ConnectedAccount[] {
    return this.accounts.filter((a) => a.sub === sub && (!connection || a.connection === connection));
  }

  find(sub: string, connection: string): ConnectedAccount | undefined {
    return this.accounts.find((a) => a.sub === sub && a.connection === connection);
  }

  /** Connecting again (e.g. with more scopes) updates the user's account for that connection and keeps its id. */
  upsert(sub: string, connection: string, tokens: UpstreamTokens): ConnectedAccount {
    const existing = this.find(sub, connection);
    if (existing) {
      existing.tokens = tokens;
      existing.scopes = tokens.scopes;
      this.save();
      return existing;
    }
    const account: ConnectedAccount = {
      id: `cac_${randomBytes(12).toString('base64url')}`,
      sub,
      connection,
      scopes: tokens.scopes,
      createdAt: new Date().toISOString(),
      tokens,
    };
    this.accounts.push(account);
    this.save();
    return account;
  }

  updateTokens(account: ConnectedAccount, tokens: UpstreamTokens): void {
    account.tokens = tokens;
    account.scopes = tokens.scopes;
    this.save();
  }

  remove(sub: string, id: string): ConnectedAccount | undefined {
    const i = this.accounts.findIndex((a) => a.sub === sub && a.id === id);
    if (i < 0) return undefined;
    const [removed] = this.accounts.splice(i, 1);
    this.save();
    return removed;
  }

  private save() {
    if (this.file) writeSecretFile(this.file, { accounts: this.accounts });
  }
}

/** What the My Account API shows of an account: never its tokens. */
export function publicAccount(a: ConnectedAccount): MyAccountConnectedAccount {
  return {
    id: a.id,
    connection: a.connection,
    access_type: 'offline',
    scopes: a.scopes,
    created_at: a.createdAt,
    ...(a.tokens.expiresAt && !a.tokens.refreshToken ? { expires_at: new Date(a.tokens.expiresAt * 1000).toISOString() } : {}),
  };
}
