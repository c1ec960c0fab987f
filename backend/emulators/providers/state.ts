/**
 * What the provider emulator remembers: OAuth grants, tokens (as SHA-256 hashes only), consent already given, the
 * data users created through the APIs, and the outbox of side effects. Seeded data is not stored: it is rebuilt
 * at every start relative to "today", and what was added is laid over it. With a file the state is written
 * atomically (mode 0600) after every change, so a restart keeps tokens and changes.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { writeSecretFile } from '../idp/keys';

export type ProviderId = 'google' | 'slack' | 'github';

export interface Grant {
  id: string;
  provider: ProviderId;
  clientId: string;
  /** The account's e-mail. */
  account: string;
  scopes: string[];
  createdAt: number;
}

/** Why a token stopped working: replaced by a refresh, explicitly revoked, or its grant was withdrawn. */
export type RevokedReason = 'refreshed' | 'rotated' | 'revoked';

export interface TokenRecord {
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  hash: string;
  kind: 'access' | 'refresh';
  grantId: string;
  /** Milliseconds since the epoch; undefined = does not expire. */
  expiresAt?: number;
  revoked?: RevokedReason;
  createdAt: number;
}

/** Scopes an account has granted a client so far (Google's incremental authorization). */
export interface Consent {
  provider: ProviderId;
  clientId: string;
  account: string;
  scopes: string[];
}

export interface OutboxItem {
  provider: ProviderId;
  kind: 'gmail.send' | 'calendar.insert' | 'slack.postMessage' | 'github.issue';
  account: string;
  at: string;
  data: unknown;
}

/** Records added through the APIs, by kind; each provider module owns the shape of its own entries. */
export interface Additions {
  events: unknown[];
  mails: unknown[];
  slackMessages: unknown[];
  issues: unknown[];
}

interface Snapshot {
  version: 1;
  grants: Grant[];
  tokens: TokenRecord[];
  consents: Consent[];
  added: Additions;
  outbox: OutboxItem[];
}

const empty = (): Snapshot => ({ version: 1, grants: [], tokens: [], consents: [], added: { events: [], mails: [], slackMessages: [], issues: [] }, outbox: [] });

/** Expired access tokens are kept this long (to answer "expired" rather than "unknown"), then dropped. */
const EXPIRED_TOKEN_RETENTION_MS = 24 * 3600 * 1000;

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export class ProviderState {
  private readonly snapshot: Snapshot;
  private readonly tokensByHash = new Map<string, TokenRecord>();
  private readonly grantsById = new Map<string, Grant>();

  /** `file` undefined: memory only. */
  constructor(private readonly file?: string) {
    this.snapshot = file ? load(file) : empty();
    for (const t of this.snapshot.tokens) this.tokensByHash.set(t.hash, t);
    for (const g of this.snapshot.grants) this.grantsById.set(g.id, g);
  }

  get added(): Additions {
    return this.snapshot.added;
  }

  get outbox(): readonly OutboxItem[] {
    return this.snapshot.outbox;
  }

  grant(id: string): Grant | undefined {
    return this.grantsById.get(id);
  }

  addGrant(grant: Grant) {
    this.snapshot.grants.push(grant);
    this.grantsById.set(grant.id, grant);
  }

  token(hash: string): TokenRecord | undefined {
    return this.tokensByHash.get(hash);
  }

  addToken(record: TokenRecord) {
    this.snapshot.tokens.push(record);
    this.tokensByHash.set(record.hash, record);
  }

  tokensOf(grantId: string): TokenRecord[] {
    return this.snapshot.tokens.filter((t) => t.grantId === grantId);
  }

  consent(provider: ProviderId, clientId: string, account: string): Consent | undefined {
    return this.snapshot.consents.find((c) => c.provider === provider && c.clientId === clientId && c.account === account);
  }

  rememberConsent(provider: ProviderId, clientId: string, account: string, scopes: string[]) {
    const existing = this.consent(provider, clientId, account);
    if (existing) existing.scopes = [...new Set([...existing.scopes, ...scopes])];
    else this.snapshot.consents.push({ provider, clientId, account, scopes: [...scopes] });
  }

  forgetConsent(provider: ProviderId, clientId: string, account: string) {
    this.snapshot.consents = this.snapshot.consents.filter((c) => !(c.provider === provider && c.clientId === clientId && c.account === account));
  }

  record(item: Omit<OutboxItem, 'at'>) {
    this.snapshot.outbox.push({ ...item, at: new Date().toISOString() });
  }

  save() {
    if (!this.file) return;
    const cutoff = Date.now() - EXPIRED_TOKEN_RETENTION_MS;
    const stale = (t: TokenRecord) => t.kind === 'access' && t.expiresAt !== undefined && t.expiresAt < cutoff;
    if (this.snapshot.tokens.some(stale)) {
      this.snapshot.tokens = this.snapshot.tokens.filter((t) => !stale(t));
      this.tokensByHash.clear();
      for (const t of this.snapshot.tokens) this.tokensByHash.set(t.hash, t);
    }
    writeSecretFile(this.file, this.snapshot);
  }
}

function load(file: string): Snapshot {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty();
    throw err;
  }
  let data: Partial<Snapshot>;
  try {
    data = JSON.parse(raw) as Partial<Snapshot>;
  } catch {
    throw new Error(`provider emulator: ${file} is not valid JSON; delete it to start over`);
  }
  if (data.version !== 1) throw new Error(`provider emulator: ${file} has an unknown format; delete it to start over`);
  const base = empty();
  return {
    version: 1,
    grants: data.grants ?? base.grants,
    tokens: data.tokens ?? base.tokens,
    consents: data.consents ?? base.consents,
    added: { ...base.added, ...data.added },
    outbox: data.outbox ?? base.outbox,
  };
}
