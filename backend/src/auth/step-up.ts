/**
 * Step-up authentication (RFC 9470). Whether a token is a fresh multi-factor one is decided from its verified claims
 * only (E2): `acr` (or `amr` containing `mfa`) and `auth_time`. What a client says about its authentication is never
 * an input.
 */
import { MFA_ACR } from '../../../lib/defaults';

export interface AuthenticationClaims {
  acr?: string;
  amr?: string[];
  authTime?: number;
}

export function freshMfa(claims: AuthenticationClaims, maxAgeSeconds: number, nowSeconds = Date.now() / 1000): boolean {
  const mfa = claims.acr === MFA_ACR || (claims.amr ?? []).includes('mfa');
  return mfa && claims.authTime !== undefined && nowSeconds - claims.authTime <= maxAgeSeconds;
}

/** The RFC 9470 §3 challenge: what the client must ask the IdP for. */
export function stepUpChallenge(acrValues: string, maxAgeSeconds: number): string {
  return `Bearer error="insufficient_user_authentication", error_description="A fresh multi-factor sign-in is required", acr_values="${acrValues}", max_age=${maxAgeSeconds}`;
}
