/**
 * The HTML a user sees at each emulated provider: account picker, consent page and authorization errors. Branded
 * per provider, plain forms, no scripts and no external resources (one inline style sheet allowed by hash in a
 * strict CSP), every value escaped.
 */
import { createHash } from 'node:crypto';
import { escapeHtml } from '../idp/pages';
import type { Account, OAuthClient } from './oauth';
import type { ProviderId } from './state';

interface Brand {
  name: string;
  accent: string;
  /** The page title of the consent page. */
  title: string;
  heading(client: string): string;
  intro(client: string): string;
}

export const SLACK_WORKSPACE_NAME = 'Deputy Demo';

const BRANDS: Record<ProviderId, Brand> = {
  google: {
    name: 'Google',
    accent: '#1a73e8',
    title: 'Sign in with Google',
    heading: (client) => `${client} wants to access your Google Account`,
    intro: (client) => `This will allow ${client} to:`,
  },
  slack: {
    name: 'Slack',
    accent: '#4a154b',
    title: 'Slack',
    heading: (client) => `${client} is requesting permission to access the ${SLACK_WORKSPACE_NAME} Slack workspace`,
    intro: (client) => `What will ${client} be able to do?`,
  },
  github: {
    name: 'GitHub',
    accent: '#1f883d',
    title: 'Authorize application · GitHub',
    heading: (client) => `${client} wants to access your GitHub account`,
    intro: () => 'This application will be able to:',
  },
};

const CSS = `
:root{color-scheme:light dark;--bg:#f6f8fa;--card:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--err-bg:#fdecec;--err-fg:#9b1c1c;--note-bg:#fff7e0;--note-fg:#6b4e00}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--err-bg:#3a1717;--err-fg:#ffb4b4;--note-bg:#332a10;--note-fg:#f3d98b}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;padding:40px 16px}
main{width:100%;max-width:460px;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:28px}
.brand{font-weight:700;font-size:1.05rem;margin:0 0 18px;display:flex;align-items:center;gap:8px}
.brand span{display:inline-block;width:12px;height:12px;border-radius:3px}
h1{font-size:1.3rem;line-height:1.35;margin:0 0 12px}
.sub{color:var(--muted);margin:0 0 18px}
.account{display:inline-block;border:1px solid var(--line);border-radius:999px;padding:4px 12px;font-size:.92rem;margin:0 0 18px}
ul{padding-left:20px;margin:8px 0 18px}li{margin:6px 0}
.scope{display:block;color:var(--muted);font-size:.8rem;word-break:break-all}
.actions{display:flex;gap:12px;justify-content:flex-end;margin-top:20px}
button{font:inherit;font-weight:600;padding:9px 20px;border-radius:8px;cursor:pointer;border:1px solid var(--line);background:transparent;color:var(--fg)}
button.primary{border-color:transparent;color:#fff}
button:focus-visible{outline:3px solid currentColor;outline-offset:2px}
.accounts button{display:block;width:100%;text-align:left;margin:0 0 10px;font-weight:400}
.accounts strong{display:block}
.error{background:var(--err-bg);color:var(--err-fg);border-radius:8px;padding:10px 12px}
.note{background:var(--note-bg);color:var(--note-fg);border-radius:8px;padding:10px 12px;font-size:.85rem;margin:22px 0 0}
`;

const ACCENT_CSS = Object.fromEntries(
  Object.entries(BRANDS).map(([id, b]) => [id, `.brand span,button.primary{background:${b.accent}}`]),
) as Record<ProviderId, string>;

const hash = (css: string) => `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;

/** Response headers of every page here. */
export function pageHeaders(provider: ProviderId): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src ${hash(CSS)} ${hash(ACCENT_CSS[provider])}; base-uri 'none'; frame-ancestors 'none'`,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

function layout(provider: ProviderId, title: string, body: string): string {
  const brand = BRANDS[provider];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
<style>${ACCENT_CSS[provider]}</style>
</head>
<body>
<main>
<p class="brand"><span aria-hidden="true"></span>${escapeHtml(brand.name)}</p>
${body}
<p class="note">This is Deputy's <strong>local ${escapeHtml(brand.name)} emulator</strong>: its accounts and data exist only on this machine.</p>
</main>
</body>
</html>`;
}

export function accountPickerPage(provider: ProviderId, o: { action: string; requestId: string; client: OAuthClient; accounts: readonly Account[] }): string {
  const buttons = o.accounts
    .map((a) => `<button type="submit" name="email" value="${escapeHtml(a.email)}"><strong>${escapeHtml(a.name)}</strong>${escapeHtml(a.email)}</button>`)
    .join('\n');
  return layout(
    provider,
    `Choose an account · ${BRANDS[provider].name}`,
    `<h1>Choose an account</h1>
<p class="sub">to continue to ${escapeHtml(o.client.name)}</p>
<form method="post" action="${escapeHtml(o.action)}" class="accounts">
<input type="hidden" name="request" value="${escapeHtml(o.requestId)}">
${buttons}
</form>`,
  );
}

export function consentPage(
  provider: ProviderId,
  o: { action: string; consentId: string; client: OAuthClient; account: Account; scopes: Array<{ scope: string; label: string }> },
): string {
  const brand = BRANDS[provider];
  const items = o.scopes.map((s) => `<li>${escapeHtml(s.label)}<span class="scope">${escapeHtml(s.scope)}</span></li>`).join('\n');
  return layout(
    provider,
    brand.title,
    `<h1>${escapeHtml(brand.heading(o.client.name))}</h1>
<p class="account" title="${escapeHtml(o.account.name)}">${escapeHtml(o.account.email)}</p>
<p>${escapeHtml(brand.intro(o.client.name))}</p>
<ul>
${items}
</ul>
<p class="sub">Make sure you trust ${escapeHtml(o.client.name)}. You can remove its access at any time.</p>
<form method="post" action="${escapeHtml(o.action)}">
<input type="hidden" name="consent" value="${escapeHtml(o.consentId)}">
<div class="actions">
<button type="submit" name="action" value="cancel">Cancel</button>
<button type="submit" name="action" value="allow" class="primary">Allow</button>
</div>
</form>`,
  );
}

export function authorizationErrorPage(provider: ProviderId, error: string, description: string): string {
  return layout(
    provider,
    `Authorization error · ${BRANDS[provider].name}`,
    `<h1>Access blocked: this request is invalid</h1>
<p class="error" role="alert">Error 400: <code>${escapeHtml(error)}</code></p>
<p class="sub">${escapeHtml(description)}</p>`,
  );
}
