/**
 * Property-based tests of the access-token verifier Deputy's API and the Projects API use: against an oracle that
 * states the rules of the A section of the security list (issuer exact, our audience, our client, time claims, a
 * subject, our key, an access-token type, no ID-token claims), every combination fast-check draws of right and wrong
 * claims, headers and keys is accepted exactly when the oracle says so. Arbitrary strings are always refused with
 * invalid_token, quickly, and never echoed.
 */
import fc from 'fast-check';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAccessTokenVerifier, TokenVerificationError, type VerifiedUser } from '../../backend/src/auth/verify-access-token';

const ISSUER = 'https://tenant.example.auth0.com/';
const AUDIENCE = 'https://api.deputy.local/';
const CLIENT = 'deputy-extension';
const now = () => Math.floor(Date.now() / 1000);

let good: { privateKey: CryptoKey; kid: string };
let rogue: { privateKey: CryptoKey; kid: string };
let verify: (token: string) => Promise<VerifiedUser>;

beforeAll(async () => {
  const a = await generateKeyPair('RS256', { extractable: true });
  const b = await generateKeyPair('RS256', { extractable: true });
  good = { privateKey: a.privateKey, kid: 'good' };
  rogue = { privateKey: b.privateKey, kid: 'rogue' };
  const jwk: JWK = { ...(await exportJWK(a.publicKey)), kid: 'good', alg: 'RS256', use: 'sig' };
  verify = createAccessTokenVerifier({
    issuer: ISSUER, audience: AUDIENCE, allowedClientIds: [CLIENT], requireAtJwtTyp: true, getKey: createLocalJWKSet({ keys: [jwk] }),
  });
});

const choice = <T>(...values: Array<[T, boolean]>) => fc.constantFrom(...values);
/** Each field: a value and whether the oracle accepts it. */
const tokenSpec = fc.record({
  iss: choice<string | undefined>([ISSUER, true], [ISSUER.slice(0, -1), false], [`${ISSUER}x`, false], ['https://other.example.auth0.com/', false], [undefined, false], ['HTTPS://TENANT.EXAMPLE.AUTH0.COM/', false]),
  aud: choice<unknown>([AUDIENCE, true], [[AUDIENCE, `${ISSUER}userinfo`], true], [['https://other.api/'], false], ['https://other.api/', false], [AUDIENCE.slice(0, -1), false], [undefined, false], [[], false]),
  azp: choice<unknown>([CLIENT, true], ['some-other-spa', false], [undefined, false], [123, false]),
  sub: choice<unknown>(['auth0|alice', true], ['', false], [undefined, false], [42, false]),
  exp: choice<number | string | undefined>([3600, true], [-3600, false], [undefined, false], ['3600', false]),
  nbf: choice<number | undefined>([undefined, true], [-10, true], [3600, false]),
  iat: choice<number | undefined>([-5, true], [3600, false]),
  idTokenClaim: choice<string | undefined>([undefined, true], ['nonce', false], ['at_hash', false]),
  typ: choice<string | undefined>(['at+jwt', true], ['application/at+jwt', true], ['JWT', false], [undefined, false], ['id_token+jwt', false]),
  key: choice<'good' | 'rogue' | 'rogue-with-good-kid'>(['good', true], ['rogue', false], ['rogue-with-good-kid', false]),
});

type Spec = Record<'iss' | 'aud' | 'azp' | 'sub' | 'exp' | 'nbf' | 'iat' | 'idTokenClaim' | 'typ' | 'key', [unknown, boolean]>;

async function build(spec: Spec): Promise<string> {
  const t = now();
  const payload: Record<string, unknown> = { scope: 'openid chat', jti: crypto.randomUUID() };
  const set = (k: string, v: unknown) => {
    if (v !== undefined) payload[k] = v;
  };
  set('iss', spec.iss[0]);
  set('aud', spec.aud[0]);
  set('azp', spec.azp[0]);
  set('sub', spec.sub[0]);
  set('exp', typeof spec.exp[0] === 'number' ? t + spec.exp[0] : spec.exp[0]);
  set('nbf', typeof spec.nbf[0] === 'number' ? t + spec.nbf[0] : undefined);
  set('iat', typeof spec.iat[0] === 'number' ? t + spec.iat[0] : undefined);
  if (spec.idTokenClaim[0]) payload[spec.idTokenClaim[0] as string] = 'x';
  const which = spec.key[0];
  const signer = which === 'good' ? good : rogue;
  const kid = which === 'rogue' ? rogue.kid : good.kid;
  const header: Record<string, unknown> = { alg: 'RS256', kid };
  if (spec.typ[0] !== undefined) header.typ = spec.typ[0];
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(signer.privateKey);
}

async function outcome(token: string): Promise<'accepted' | 'refused'> {
  try {
    await verify(token);
    return 'accepted';
  } catch (err) {
    if (!(err instanceof TokenVerificationError) || err.code !== 'invalid_token') throw err;
    if (token.length >= 16 && (err.message.includes(token) || (err.description ?? '').includes(token))) throw new Error('the token was echoed');
    return 'refused';
  }
}

describe('access-token verification, property-based', () => {
  it('accepts exactly the tokens the rules allow (issuer, audience, client, time, subject, key, type, no ID-token claims)', async () => {
    await fc.assert(
      fc.asyncProperty(tokenSpec, async (spec) => {
        const s = spec as unknown as Spec;
        const expected = Object.values(s).every(([, ok]) => ok) ? 'accepted' : 'refused';
        expect(await outcome(await build(s))).toBe(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('the all-valid combination is accepted (the oracle is not vacuous)', async () => {
    const s = { iss: [ISSUER, true], aud: [AUDIENCE, true], azp: [CLIENT, true], sub: ['auth0|alice', true], exp: [3600, true], nbf: [undefined, true], iat: [-5, true], idTokenClaim: [undefined, true], typ: ['at+jwt', true], key: ['good', true] } as Spec;
    expect(await outcome(await build(s))).toBe('accepted');
  });

  it('arbitrary strings, JWT-shaped garbage and alg:none tokens are refused with invalid_token and never echoed', async () => {
    const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    const jwtShaped = fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 40 })).map(([h, p, sig]) => `${b64(h)}.${b64(p)}.${b64(sig)}`);
    const none = fc.record({ sub: fc.string(), aud: fc.constant(AUDIENCE), iss: fc.constant(ISSUER) }).map((p) => `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...p, exp: now() + 3600, azp: CLIENT })}.`);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 200 }), jwtShaped, none, fc.constant('a'.repeat(100_000))), async (token) => {
        expect(await outcome(token)).toBe('refused');
      }),
      { numRuns: 400 },
    );
  });
});
