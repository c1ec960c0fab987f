/**
 * Answering a CIBA request the way the user does, on the IdP emulator's approvals page (the trusted device), over
 * plain HTTP with a cookie jar: sign in to the page, wait until the request shows up in its live feed, and press
 * Approve or Deny with the page's CSRF token (and the authenticator code if the request asks for one).
 */
import { CookieJar, fetchWithJar } from './pkce-login';

export interface DeviceUser {
  email: string;
  password: string;
}

interface FeedItem {
  id: string;
  status: string;
  bindingMessage: string;
}

export async function signInToApprovals(idpUrl: string, user: DeviceUser, jar = new CookieJar()): Promise<CookieJar> {
  const res = await fetchWithJar(jar, `${idpUrl}/approvals/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: user.email, password: user.password }),
    redirect: 'manual',
  });
  if (res.status !== 303) throw new Error(`approvals sign-in: ${res.status}`);
  return jar;
}

export async function approvalsFeed(idpUrl: string, jar: CookieJar): Promise<FeedItem[]> {
  const res = await fetchWithJar(jar, `${idpUrl}/approvals/feed`);
  if (!res.ok) throw new Error(`approvals feed: ${res.status}`);
  return ((await res.json()) as { requests: FeedItem[] }).requests;
}

/** Returns `ms`: from the click (the POST) to the page's answer. */
export async function answerApproval(
  idpUrl: string,
  user: DeviceUser,
  match: { bindingMessage?: string; authReqId?: string },
  decision: 'approve' | 'deny',
  opts: { code?: string; timeoutMs?: number } = {},
): Promise<{ ms: number; status: number }> {
  const jar = await signInToApprovals(idpUrl, user);
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let item: FeedItem | undefined;
  while (!item) {
    item = (await approvalsFeed(idpUrl, jar)).find(
      (r) => r.status === 'pending' && (match.authReqId ? r.id === match.authReqId : r.bindingMessage === match.bindingMessage),
    );
    if (!item) {
      if (Date.now() > deadline) throw new Error(`no pending approval matching ${JSON.stringify(match)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const page = await (await fetchWithJar(jar, `${idpUrl}/approvals`)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!csrf) throw new Error('no CSRF token on the approvals page');
  const started = Date.now();
  const res = await fetchWithJar(jar, `${idpUrl}/approvals/${item.id}/${decision}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, ...(opts.code ? { code: opts.code } : {}) }),
    redirect: 'manual',
  });
  return { ms: Date.now() - started, status: res.status };
}
