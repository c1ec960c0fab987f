/**
 * The identity emulator's demo accounts. This is an offline stand-in for an Auth0 tenant: the passwords are public
 * (listed on the emulator's /demo-users page) and the accounts exist only on this machine.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface DemoUser {
  /** Stable Auth0-style user id (`auth0|...`), the `sub` of every token. */
  sub: string;
  username: string;
  email: string;
  password: string;
  name: string;
  given_name: string;
  family_name: string;
  picture?: string;
  roles: string[];
}

type DemoUserSeed = Omit<DemoUser, 'picture'>;

const SEEDS: readonly DemoUserSeed[] = [
  {
    sub: 'auth0|alice0000000000000001',
    username: 'alice',
    email: 'alice@example.com',
    password: 'alice-pass-123',
    name: 'Alice Anders',
    given_name: 'Alice',
    family_name: 'Anders',
    roles: ['admin'],
  },
  {
    sub: 'auth0|bob00000000000000000002',
    username: 'bob',
    email: 'bob@example.com',
    password: 'bob-pass-123',
    name: 'Bob Brown',
    given_name: 'Bob',
    family_name: 'Brown',
    roles: ['member'],
  },
];

/** The demo users with their `picture` pointing at the emulator's own avatar route (nothing is fetched from outside). */
export function demoUsers(baseUrl: string): DemoUser[] {
  return SEEDS.map((u) => ({ ...u, roles: [...u.roles], picture: `${baseUrl}/avatars/${u.username}.svg` }));
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** A password that matches no account; compared against when the login name is unknown, so both paths do the same work. */
const NO_USER_DIGEST = digest('\u0000no-such-user\u0000');

/**
 * Looks a user up by e-mail or username (case-insensitive) and checks the password in constant time. Returns the user
 * or undefined, without telling the caller whether the account exists.
 */
export function authenticate(users: readonly DemoUser[], login: string, password: string): DemoUser | undefined {
  const wanted = login.trim().toLowerCase();
  const user = wanted ? users.find((u) => u.email.toLowerCase() === wanted || u.username.toLowerCase() === wanted) : undefined;
  const expected = user ? digest(user.password) : NO_USER_DIGEST;
  const ok = timingSafeEqual(expected, digest(password));
  return user && ok ? user : undefined;
}

/** OIDC standard claims of a user, keyed by claim name (oidc-provider filters them by the granted scopes). */
export function userClaims(user: DemoUser): Record<string, unknown> {
  return {
    sub: user.sub,
    name: user.name,
    given_name: user.given_name,
    family_name: user.family_name,
    nickname: user.username,
    picture: user.picture,
    updated_at: '2025-01-01T00:00:00.000Z',
    email: user.email,
    email_verified: true,
  };
}

/** Which claims each scope releases (Auth0's standard mapping). */
export const SCOPE_CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name', 'nickname', 'picture', 'updated_at'],
  email: ['email', 'email_verified'],
} as const;
