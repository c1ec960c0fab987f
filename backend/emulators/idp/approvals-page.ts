/**
 * The approvals page: the user's "trusted device" for CIBA requests (Auth0 Guardian's stand-in). Signed in as one
 * user (its own HMAC-signed cookie), it lists that user's pending requests with the binding message first and every
 * authorization detail rendered for a human, with Approve / Deny (and the authenticator code when the request asked
 * for multi-factor). A small script (allowed by hash) keeps the list and the countdowns live.
 */
import { createHash, createHmac } from 'node:crypto';
import type Koa from 'koa';
import { renderDetail } from '../../../lib/authorization-details';
import { type CibaRequest, type CibaStore, isExpired } from './backchannel';
import { readForm } from './json-body';
import { escapeHtml, layout, PAGE_HEADERS } from './pages';
import { verifyTotp } from './totp';
import { authenticate, type DemoUser } from './users';

const COOKIE = 'deputy_approvals';
const SESSION_SECONDS = 8 * 3600;

const SCRIPT = `(() => {
  const list = document.getElementById('approvals');
  const tick = () => {
    for (const el of document.querySelectorAll('[data-expires]')) {
      const left = Math.max(0, Math.round((Number(el.dataset.expires) - Date.now()) / 1000));
      el.textContent = left > 0 ? 'Expires in ' + Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0') : 'Expired';
    }
  };
  const poll = async () => {
    try {
      const res = await fetch('/approvals/feed', { credentials: 'same-origin', cache: 'no-store' });
      if (res.ok && (await res.json()).version !== list.dataset.version && !document.activeElement?.matches('input')) location.reload();
    } catch {}
  };
  tick();
  setInterval(tick, 1000);
  setInterval(poll, 1000);
})();`;
const SCRIPT_HASH = createHash('sha256').update(SCRIPT, 'utf8').digest('base64');
const HEADERS = {
  ...PAGE_HEADERS,
  'content-security-policy': `${PAGE_HEADERS['content-security-policy']}; script-src 'sha256-${SCRIPT_HASH}'; connect-src 'self'; form-action 'self'`,
};

export interface ApprovalsPageOptions {
  store: CibaStore;
  users: readonly DemoUser[];
  usersBySub: Map<string, DemoUser>;
  totpSecrets: Map<string, string>;
  /** Signs the page's session cookie and CSRF tokens. */
  key: string;
  clientName: (clientId: string) => string;
}

export function approvalsPage(opts: ApprovalsPageOptions): Koa.Middleware {
  const mac = (value: string) => createHmac('sha256', opts.key).update(value).digest('base64url');
  const sessionOf = (ctx: Koa.Context): { user: DemoUser; csrf: string } | undefined => {
    const raw = ctx.cookies.get(COOKIE) ?? '';
    const [sub, exp, sig] = raw.split('.');
    if (!sub || !exp || !sig || mac(`${sub}.${exp}`) !== sig || Number(exp) < Date.now() / 1000) return undefined;
    const user = opts.usersBySub.get(Buffer.from(sub, 'base64url').toString('utf8'));
    return user && { user, csrf: mac(`csrf.${raw}`) };
  };
  const page = (ctx: Koa.Context, status: number, html: string) => {
    ctx.status = status;
    ctx.set(HEADERS);
    ctx.type = 'html';
    ctx.body = html;
  };
  const version = (sub: string) => createHash('sha256').update(opts.store.forUser(sub).map((r) => `${r.id}:${statusOf(r)}`).join(',')).digest('base64url').slice(0, 16);

  return async (ctx, next) => {
    const p = ctx.path;
    if (p !== '/approvals' && !p.startsWith('/approvals/')) return next();
    const session = sessionOf(ctx);

    if (ctx.method === 'POST' && p === '/approvals/login') {
      const form = await readForm(ctx.req);
      const user = authenticate(opts.users, form.get('email') ?? '', form.get('password') ?? '');
      if (!user) return page(ctx, 400, signInPage('Wrong email or password.', form.get('email') ?? ''));
      const exp = String(Math.floor(Date.now() / 1000) + SESSION_SECONDS);
      const sub = Buffer.from(user.sub).toString('base64url');
      ctx.cookies.set(COOKIE, `${sub}.${exp}.${mac(`${sub}.${exp}`)}`, { httpOnly: true, sameSite: 'lax', signed: false, maxAge: SESSION_SECONDS * 1000 });
      ctx.status = 303;
      return ctx.redirect('/approvals');
    }
    if (ctx.method === 'GET' && p === '/approvals') {
      if (!session) return page(ctx, 200, signInPage());
      return page(ctx, 200, listPage(session.user, opts.store.forUser(session.user.sub), session.csrf, version(session.user.sub), opts.clientName, ctx.query.error === 'code'));
    }
    if (!session) {
      ctx.status = 401;
      ctx.body = { error: 'login_required' };
      return;
    }
    if (ctx.method === 'GET' && p === '/approvals/feed') {
      ctx.set('cache-control', 'no-store');
      const requests = opts.store.forUser(session.user.sub).map((r) => ({ id: r.id, status: statusOf(r), bindingMessage: r.bindingMessage, authorizationDetails: r.authorizationDetails, expiresAt: r.expiresAt, mfa: r.mfa }));
      ctx.body = { version: version(session.user.sub), requests };
      return;
    }
    if (ctx.method === 'POST' && p === '/approvals/logout') {
      ctx.cookies.set(COOKIE, null);
      ctx.status = 303;
      return ctx.redirect('/approvals');
    }
    const answer = /^\/approvals\/([A-Za-z0-9_-]+)\/(approve|deny)$/.exec(p);
    if (ctx.method === 'POST' && answer) {
      const form = await readForm(ctx.req);
      if (form.get('csrf') !== session.csrf) {
        ctx.status = 403;
        ctx.body = { error: 'invalid_csrf_token' };
        return;
      }
      const r = opts.store.get(answer[1]!);
      // Another user's request does not exist, as far as this user can tell.
      if (!r || r.sub !== session.user.sub) return page(ctx, 404, layout('Not found', '<h1>No such request</h1><p><a href="/approvals">Back to your requests</a></p>'));
      if (r.status !== 'pending' || isExpired(r)) return page(ctx, 409, layout('Already answered', '<h1>This request is no longer pending</h1><p><a href="/approvals">Back to your requests</a></p>'));
      if (answer[2] === 'approve' && r.mfa && !verifyTotp(opts.totpSecrets.get(r.sub) ?? '', form.get('code') ?? '')) {
        ctx.status = 303;
        return ctx.redirect(`/approvals?error=code#${r.id}`);
      }
      opts.store.update(r, { status: answer[2] === 'approve' ? 'approved' : 'denied', decidedAt: Date.now() });
      ctx.status = 303;
      return ctx.redirect('/approvals');
    }
    return next();
  };
}

/** What the user sees: a redeemed request was approved; a pending one past its expiry has expired. */
function statusOf(r: CibaRequest): 'pending' | 'approved' | 'denied' | 'expired' {
  if (r.status === 'pending') return isExpired(r) ? 'expired' : 'pending';
  return r.status === 'redeemed' ? 'approved' : r.status;
}

function signInPage(error?: string, email = ''): string {
  return layout(
    'Approvals: sign in',
    `<h1>Your approvals</h1>
<p class="sub">Sign in to see what Deputy is asking you to approve.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/approvals/login">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" value="${escapeHtml(email)}" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

function listPage(user: DemoUser, requests: CibaRequest[], csrf: string, version: string, clientName: (id: string) => string, codeError: boolean): string {
  const pending = requests.filter((r) => statusOf(r) === 'pending');
  const recent = requests.filter((r) => statusOf(r) !== 'pending').slice(0, 10);
  const details = (r: CibaRequest) =>
    r.authorizationDetails
      .map((d) => {
        const { title, rows } = renderDetail(d as { type: string });
        return `<section class="detail"><h3>${escapeHtml(title)}</h3><dl>${rows.map((x) => `<dt>${escapeHtml(x.label)}</dt><dd>${escapeHtml(x.value)}</dd>`).join('')}</dl></section>`;
      })
      .join('');
  const card = (r: CibaRequest) => `<article id="${escapeHtml(r.id)}" data-testid="approval" data-status="pending" data-binding-message="${escapeHtml(r.bindingMessage)}">
<p class="sub">${escapeHtml(clientName(r.clientId))} asks you to approve:</p>
<h2>${escapeHtml(r.bindingMessage)}</h2>
${details(r)}
<p class="sub">Permissions: ${escapeHtml(r.scope)} · <span data-expires="${r.expiresAt}">Expires soon</span></p>
<form method="post" action="/approvals/${escapeHtml(r.id)}/approve">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
${r.mfa ? `<label for="code-${escapeHtml(r.id)}">Code from your authenticator app</label><input id="code-${escapeHtml(r.id)}" name="code" data-testid="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>` : ''}
<button type="submit" data-testid="approve">Approve</button>
</form>
<form method="post" action="/approvals/${escapeHtml(r.id)}/deny"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit" class="secondary" data-testid="deny">Deny</button></form>
</article>`;
  const past = (r: CibaRequest) =>
    `<tr data-testid="approval" data-status="${statusOf(r)}" data-binding-message="${escapeHtml(r.bindingMessage)}"><td>${escapeHtml(r.bindingMessage)}</td><td>${statusOf(r)}</td></tr>`;
  return layout(
    'Approvals',
    `<h1>Approve requests for ${escapeHtml(user.name)}</h1>
<p class="sub">Only approve what you asked Deputy to do. Check every detail: it is exactly what will run.</p>
${codeError ? '<p class="error" role="alert">That code is not valid.</p>' : ''}
<div id="approvals" data-version="${escapeHtml(version)}">
${pending.length ? pending.map(card).join('<hr>') : '<p data-testid="no-approvals">Nothing is waiting for your approval.</p>'}
${recent.length ? `<h2>Recently answered</h2><table><tbody>${recent.map(past).join('')}</tbody></table>` : ''}
</div>
<form method="post" action="/approvals/logout"><button type="submit" class="secondary">Sign out of approvals</button></form>
<script>${SCRIPT}</script>`,
    { wide: true },
  );
}
