/**
 * HTML of the identity emulator's own pages: sign-in, demo users, sign-out and errors. Plain server-rendered HTML
 * with one inline style sheet (allowed by hash in a strict CSP), no scripts, every value escaped.
 */
import { createHash } from 'node:crypto';
import type { DemoUser } from './users';

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const CSS = `
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--fg:#1c1f24;--muted:#5b6270;--line:#d5d9e0;--accent:#2f55d4;--accent-fg:#fff;--err-bg:#fdecec;--err-fg:#9b1c1c;--note-bg:#fff7e0;--note-fg:#6b4e00}
@media (prefers-color-scheme:dark){:root{--bg:#15171b;--card:#1f2228;--fg:#eceef2;--muted:#a4abb8;--line:#3a3f49;--accent:#7d9bff;--accent-fg:#0d1020;--err-bg:#3a1717;--err-fg:#ffb4b4;--note-bg:#332a10;--note-fg:#f3d98b}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;padding:40px 16px}
main{width:100%;max-width:420px;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:28px 28px 20px;box-shadow:0 2px 10px rgba(0,0,0,.06)}
main.wide{max-width:760px}
h1{font-size:1.4rem;margin:0 0 4px}
.sub{color:var(--muted);margin:0 0 20px;font-size:.95rem}
label{display:block;font-weight:600;margin:14px 0 6px}
input[type=email],input[type=text],input[type=password]{width:100%;font:inherit;padding:10px 12px;border:1px solid var(--line);border-radius:8px;background:var(--card);color:var(--fg)}
input:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
input[aria-invalid=true]{border-color:var(--err-fg)}
button{margin-top:20px;width:100%;font:inherit;font-weight:600;padding:11px 12px;border:0;border-radius:8px;background:var(--accent);color:var(--accent-fg);cursor:pointer}
button.secondary{background:transparent;color:var(--fg);border:1px solid var(--line);margin-top:10px}
.error{background:var(--err-bg);color:var(--err-fg);border-radius:8px;padding:10px 12px;margin:0 0 8px}
.note{background:var(--note-bg);color:var(--note-fg);border-radius:8px;padding:10px 12px;font-size:.9rem;margin:20px 0 0}
.links{display:flex;justify-content:space-between;gap:12px;margin-top:16px;font-size:.9rem}
a{color:var(--accent)}
table{width:100%;border-collapse:collapse;font-size:.92rem;margin-top:12px}
th,td{text-align:left;padding:8px 6px;border-bottom:1px solid var(--line);vertical-align:top}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em}
dl{margin:0}dt{font-weight:600;margin-top:10px}dd{margin:2px 0 0;word-break:break-word}
`;

const STYLE_HASH = createHash('sha256').update(CSS, 'utf8').digest('base64');

/** Response headers for every page rendered here. */
export const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'`,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function layout(title: string, body: string, opts: { wide?: boolean } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main${opts.wide ? ' class="wide"' : ''}>
${body}
</main>
</body>
</html>`;
}

const EMULATOR_NOTE =
  '<p class="note">This is Deputy\'s <strong>local identity emulator</strong>, an offline stand-in for Auth0. ' +
  'Its accounts exist only on this machine; see <a href="/demo-users" target="_blank" rel="noopener">the demo users</a>.</p>';

export interface LoginPageOptions {
  action: string;
  abortUrl: string;
  clientName: string;
  email?: string;
  error?: string;
}

export function loginPage(o: LoginPageOptions): string {
  const invalid = o.error ? ' aria-invalid="true" aria-describedby="login-error"' : '';
  const errorBlock = o.error ? `<p class="error" id="login-error" role="alert">${escapeHtml(o.error)}</p>` : '';
  const focusPassword = !!o.email;
  return layout(
    'Sign in to Deputy (local identity emulator)',
    `<h1>Sign in to Deputy</h1>
<p class="sub">to continue to ${escapeHtml(o.clientName)} <span aria-hidden="true">·</span> local identity emulator</p>
${errorBlock}
<form method="post" action="${escapeHtml(o.action)}" autocomplete="on">
<label for="email">Email or username</label>
<input id="email" name="email" type="text" inputmode="email" autocomplete="username" autocapitalize="off" spellcheck="false" required value="${escapeHtml(o.email ?? '')}"${invalid}${focusPassword ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${invalid}${focusPassword ? ' autofocus' : ''}>
<button type="submit">Continue</button>
</form>
<div class="links"><a href="${escapeHtml(o.abortUrl)}">Cancel sign-in</a><a href="/demo-users" target="_blank" rel="noopener">Demo users</a></div>
${EMULATOR_NOTE}`,
  );
}

/** The second step of a multi-factor sign-in: the 6-digit code of the user's authenticator app. */
export function otpPage(o: { action: string; pending: string; abortUrl: string; error?: string }): string {
  return layout(
    'Verify it is you',
    `<h1>Verify it's you</h1>
<p class="sub">This action needs a second factor. Enter the 6-digit code from your authenticator app.</p>
${o.error ? `<p class="error" role="alert">${escapeHtml(o.error)}</p>` : ''}
<form method="post" action="${escapeHtml(o.action)}">
<input type="hidden" name="pending" value="${escapeHtml(o.pending)}">
<label for="code">Code</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus${o.error ? ' aria-invalid="true"' : ''}>
<button type="submit">Verify</button>
</form>
<div class="links"><a href="${escapeHtml(o.abortUrl)}">Cancel</a></div>`,
  );
}

export function demoUsersPage(users: readonly DemoUser[], issuer: string, totp: (u: DemoUser) => { secret: string; uri: string } = () => ({ secret: '', uri: '' })): string {
  const rows = users
    .map((u) => {
      const t = totp(u);
      return `<tr><td>${escapeHtml(u.name)}</td><td><code>${escapeHtml(u.email)}</code><br><small>username <code>${escapeHtml(u.username)}</code></small></td><td><code>${escapeHtml(u.password)}</code></td><td><code data-testid="totp-secret">${escapeHtml(t.secret)}</code><br><small><code>${escapeHtml(t.uri)}</code></small></td><td>${escapeHtml(u.roles.join(', '))}</td><td><code>${escapeHtml(u.sub)}</code></td></tr>`;
    })
    .join('\n');
  return layout(
    'Demo users · Deputy local identity emulator',
    `<h1>Demo users</h1>
<p class="sub">Deputy's local identity emulator at <code>${escapeHtml(issuer)}</code></p>
<p>This emulator is an <strong>offline stand-in for an Auth0 tenant</strong>. These accounts and passwords are public
and exist only on this machine. Sign in with the e-mail address (or the username) and the password. Actions that need
a second factor ask for the 6-digit code of an authenticator app: add the TOTP secret (or its <code>otpauth://</code> URI)
to any authenticator app.</p>
<table>
<thead><tr><th scope="col">Name</th><th scope="col">Sign-in</th><th scope="col">Password</th><th scope="col">Authenticator (TOTP) secret</th><th scope="col">Roles</th><th scope="col">User id (sub)</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`,
    { wide: true },
  );
}

export function homePage(issuer: string): string {
  return layout(
    'Deputy local identity emulator',
    `<h1>Deputy local identity emulator</h1>
<p class="sub">An offline, Auth0-compatible identity provider for development and tests.</p>
<dl>
<dt>Issuer</dt><dd><code>${escapeHtml(issuer)}</code></dd>
<dt>Discovery</dt><dd><a href="/.well-known/openid-configuration">/.well-known/openid-configuration</a></dd>
<dt>Signing keys</dt><dd><a href="/.well-known/jwks.json">/.well-known/jwks.json</a></dd>
<dt>Accounts</dt><dd><a href="/demo-users">Demo users</a></dd>
</dl>`,
  );
}

export function signedOutPage(): string {
  return layout(
    'Signed out · Deputy local identity emulator',
    `<h1>You are signed out</h1>
<p class="sub">Your session at Deputy's local identity emulator has ended. You can close this window.</p>`,
  );
}

export function logoutConfirmPage(formHtml: string, formId: string): string {
  return layout(
    'Sign out · Deputy local identity emulator',
    `<h1>Sign out of Deputy?</h1>
<p class="sub">This ends your session at Deputy's local identity emulator.</p>
${formHtml}
<button type="submit" form="${escapeHtml(formId)}" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="${escapeHtml(formId)}" class="secondary">No, stay signed in</button>`,
  );
}

export function errorPage(title: string, error: string, description?: string): string {
  return layout(
    `${title} · Deputy local identity emulator`,
    `<h1>${escapeHtml(title)}</h1>
<p class="error" role="alert"><code>${escapeHtml(error)}</code>${description ? `: ${escapeHtml(description)}` : ''}</p>
<p class="sub">Deputy's local identity emulator could not complete this request.</p>`,
  );
}

/** A round avatar with the user's initials, so that `picture` works offline. */
export function avatarSvg(user: DemoUser): string {
  const initials = `${user.given_name[0] ?? ''}${user.family_name[0] ?? ''}`.toUpperCase();
  let h = 0;
  for (const ch of user.sub) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128" role="img" aria-label="${escapeHtml(user.name)}"><circle cx="64" cy="64" r="64" fill="hsl(${h},55%,45%)"/><text x="64" y="64" dy=".35em" text-anchor="middle" font-family="system-ui,sans-serif" font-size="52" font-weight="600" fill="#fff">${escapeHtml(initials)}</text></svg>`;
}
