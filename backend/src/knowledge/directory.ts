/**
 * The people directory sharing by e-mail needs: the `users` table, filled from verified token claims, or - when the
 * access token carries no profile (Auth0's default) - from the IdP's OIDC `/userinfo` with that same token.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../store/schema';
import type { ThreadStore } from '../store/threads';

export interface DirectoryEntry {
  sub: string;
  email?: string;
  name?: string;
}

export class Directory {
  constructor(private readonly db: Kysely<Database>) {}

  async byEmail(email: string): Promise<DirectoryEntry | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['sub', 'email', 'name'])
      .where(sql`lower(email)`, '=', email.trim().toLowerCase())
      .orderBy('last_seen_at', 'desc')
      .executeTakeFirst();
    return row && { sub: row.sub, email: row.email ?? undefined, name: row.name ?? undefined };
  }

  async bySubs(subs: string[]): Promise<Map<string, DirectoryEntry>> {
    if (!subs.length) return new Map();
    const rows = await this.db.selectFrom('users').select(['sub', 'email', 'name']).where('sub', 'in', subs).execute();
    return new Map(rows.map((r) => [r.sub, { sub: r.sub, email: r.email ?? undefined, name: r.name ?? undefined }]));
  }
}

/** Records the user with their e-mail and name, from the token's claims or `/userinfo`; profile lookups never fail a request. */
export async function touchUserProfile(
  threads: ThreadStore,
  user: { sub: string; claims: unknown },
  accessToken: string | undefined,
  issuer: string,
): Promise<void> {
  const claims = (user.claims ?? {}) as Record<string, unknown>;
  // Profile text goes into Postgres (no NUL) and into other people's share dialogs (no control, bidi or zero-width characters).
  const str = (v: unknown) => (typeof v === 'string' && v.length <= 320 ? v.toWellFormed().replace(/[\u0000-\u001F\u007F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g, '').trim() || undefined : undefined);
  // An address is taken as it is or not at all: cleaning `alice@example.com\u200B` would make it someone else's.
  const address = (v: unknown) => (typeof v === 'string' && str(v) === v ? v : undefined);
  // Only an address the IdP says it verified: sharing by e-mail hands documents to whoever this resolves to, so an
  // address merely typed into a profile (no `email_verified`) must not capture shares meant for its owner.
  let email = claims.email_verified === true ? address(claims.email) : undefined;
  let name = str(claims.name);
  if (!email && accessToken) {
    try {
      const res = await fetch(`${issuer.replace(/\/?$/, '/')}userinfo`, { headers: { authorization: `Bearer ${accessToken}` }, signal: AbortSignal.timeout(3_000) });
      if (res.ok) {
        const info = (await res.json()) as Record<string, unknown>;
        if (info.sub === user.sub) {
          if (info.email_verified === true) email = address(info.email);
          name ??= str(info.name);
        }
      }
    } catch {
      // No profile this time; the user is still recorded and looked up again later.
    }
  }
  await threads.touchUser({ sub: user.sub, email, name });
}
