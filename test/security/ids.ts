/**
 * The ids of `../shared/docs/security-tests.md` (the list every security test is named after). `npm run test:security`
 * reads the ids from that document when it is next to the repository and falls back to this copy otherwise (a
 * clean clone); `ids.test.ts` checks that the copy and the document agree when both are there.
 */
export const SECURITY_TEST_IDS: Readonly<Record<string, string>> = {
  A1: 'token for another audience of the same issuer → 401',
  A2: 'ID token presented as an access token → 401',
  A3: '`azp`/`client_id` not our extension’s client → 401/403',
  A4: '`alg: none`; HS256 signed with the RSA public key; RS256 with a key not in the JWKS → 401',
  A5: 'unknown `kid` → at most one JWKS refetch within the cooldown, then 401; no JWKS flood',
  A6: 'key rotation: a new `kid` is accepted; a removed key stops working once the cache expires',
  A7: 'expired, `nbf` in the future, clock skew beyond the allowed window → 401',
  A8: 'wrong or look-alike `iss` → 401',
  A9: 'token in the query string or a cookie instead of the `Authorization` header → 401',
  A10: '(if DPoP is on) replayed `jti`, wrong `htm`/`htu`/`ath`, key not matching `cnf.jkt` → 401',
  B1: 'authorization without PKCE, or `plain` method → refused',
  B2: 'redirect URI variants (other extension id, extra path, case) → refused',
  B3: '`state` missing, reused or mismatched at the callback → flow aborted',
  B4: 'refresh-token reuse after rotation → the whole token family is revoked',
  B5: 'logout → the extension’s tokens stop working; a Token Vault exchange with the old subject fails',
  C1: 'exchange with a subject token for another audience or client → refused',
  C2: 'user A’s third-party token can never serve user B or another thread',
  C3: 'third-party tokens never appear in model messages, tool results, logs, SSE events or error bodies',
  C4: 'a connect flow started by one user cannot be completed into another user’s account',
  C5: 'callback whose context or issuer does not match the session → aborted',
  D1: '`auth_req_id` is single-use → `invalid_grant` on reuse',
  D2: 'polling faster than `interval` → `slow_down` honoured; default interval 5 s',
  D3: 'expiry → the tool call fails closed and is not silently retried with looser arguments',
  D4: 'denial → nothing executes; the agent cannot re-ask in a loop (bounded)',
  D5: 'an approval (or its token) cannot be reused for a second call or other arguments',
  D6: 'arguments changed between approval and execution → refused',
  D7: 'binding message from server-side data only; length/charset enforced; bidi and zero-width stripped',
  D8: 'two concurrent approvals for the same user are distinguishable',
  D9: 'unknown `authorization_details` type or extra field → refused',
  E1: 'a critical tool without a fresh enough `acr`/`auth_time` → `insufficient_user_authentication`',
  E2: 'only the token’s claims count; anything the client says about its authentication is ignored',
  F1: 'revoke a relationship → the next retrieval excludes the document',
  F2: 'FGA unreachable or slow → retrieval fails closed (no documents), with a clear error',
  F3: 'filtering happens before text enters the prompt; nothing about unauthorized documents leaks',
  F4: 'conversation memory and caches are keyed per user; a revoked document is not served from a cache',
  G1: 'untrusted content can never create a user turn',
  G2: 'with an always-obey model, no side-effecting tool runs without approval of its exact arguments',
  G3: 'model output is rendered safely',
  G4: 'tool-call and approval loops are bounded per run and per user',
  X1: 'manifest: minimal host permissions, locked `externally_connectable`, no web-accessible resources',
  X2: 'messages from content scripts are validated and treated as page data',
  X3: 'another extension cannot talk to ours and drive the agent',
  X4: 'no token in `chrome.storage.local`, `localStorage`, IndexedDB or any content script',
  X5: 'no token in any `runtime.sendMessage` broadcast',
  X6: 'extension pages keep the default MV3 CSP',
};

/** Parses the ids (and their expectations) out of security-tests.md: lines `- A1 text`. */
export function parseSecurityTestIds(markdown: string): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const m of markdown.matchAll(/^- ([A-Z][0-9]{1,2}) (.+)$/gm)) ids[m[1]!] = m[2]!.trim();
  return ids;
}

/** Matches an id as a word in a test's full name ("A1 …", "D2: …", "… (X4)", "E1/E2: …"). */
export function idsInTestName(name: string, known: Iterable<string>): string[] {
  const found: string[] = [];
  for (const id of known) if (new RegExp(`(^|[^A-Za-z0-9])${id}([^0-9A-Za-z]|$)`).test(name)) found.push(id);
  return found;
}

/**
 * The ids a test stands for: those in its own title; if it names none, those of the nearest enclosing describe that
 * names any, except ranges ("F1-F4" groups tests, each of which names its own id).
 */
export function idsOfTest(title: string, ancestors: string[], known: Iterable<string>): string[] {
  const list = [...known];
  const own = idsInTestName(title, list);
  if (own.length) return own;
  for (const a of [...ancestors].reverse()) {
    const withoutRanges = a.replace(/\b[A-Z][0-9]{1,2}\s*[-–]\s*[A-Z][0-9]{1,2}\b/g, ' ');
    const found = idsInTestName(withoutRanges, list);
    if (found.length) return found;
  }
  return [];
}
