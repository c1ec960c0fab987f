/**
 * The people directory is filled from token claims the user controls (their profile name): text that Postgres cannot
 * store (NUL, which made every request of that user a 500) or that disguises itself in other people's share dialogs
 * (control, bidi and zero-width characters) is dropped before it is recorded.
 */
import { describe, expect, it } from 'vitest';
import { touchUserProfile } from '../../backend/src/knowledge/directory';
import type { ThreadStore } from '../../backend/src/store/threads';

async function recorded(claims: Record<string, unknown>) {
  let saved: { sub: string; email?: string; name?: string } | undefined;
  const threads = { touchUser: async (u: typeof saved) => void (saved = u) } as unknown as ThreadStore;
  await touchUserProfile(threads, { sub: 'auth0|eve', claims }, undefined, 'http://127.0.0.1:1/');
  return saved!;
}

describe('profile claims recorded for sharing', () => {
  it('drops NUL, control, bidi and zero-width characters from the name; such an e-mail is not recorded at all', async () => {
    expect(await recorded({ email: 'alice@example.com\u200B', email_verified: true, name: 'Eve\u0000 \u202Emoc.elpmaxe@ecila\u202C\u200B' })).toEqual({
      sub: 'auth0|eve',
      email: undefined,
      name: 'Eve moc.elpmaxe@ecila',
    });
  });

  it('an e-mail the IdP did not say it verified is not recorded; a name made only of invisible characters is no name', async () => {
    expect(await recorded({ email: 'alice@example.com', email_verified: false, name: '\u200B\u200F' })).toEqual({ sub: 'auth0|eve', email: undefined, name: undefined });
    expect(await recorded({ email: 'alice@example.com' })).toEqual({ sub: 'auth0|eve', email: undefined, name: undefined });
    expect(await recorded({ email: 'eve@example.com', email_verified: true, name: 'Eve' })).toEqual({ sub: 'auth0|eve', email: 'eve@example.com', name: 'Eve' });
  });
});
