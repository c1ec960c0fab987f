/**
 * Which pages Deputy may capture (read and send to the backend). Every capture path asks `isCaptureBlocked(url)`
 * (or `captureDecision(url)` for the reason) before it reads a tab.
 *
 * Blocked:
 *   - anything that is not an http(s) page (browser pages, extension pages, files, data: URLs);
 *   - pages matching the organization's "sites never captured" (`captureBlockedSites` in lib/managed-policy.ts);
 *   - every page while the managed policy has not answered yet at browser start (it could list the page); the
 *     check waits for it up to BOOT_MANAGED_TIMEOUT_MS first.
 *
 * Filters use Chrome's URLBlocklist format, which administrators already know:
 *   `example.com`         the host and all its subdomains, any scheme, any path
 *   `.example.com`        exactly that host (no subdomains)
 *   `https://example.com` only that scheme
 *   `example.com/private` paths starting with /private
 *   `*`                   every site
 */
import { BOOT_MANAGED_TIMEOUT_MS, type ManagedPolicy, type ReadOptions, readManagedPolicy } from './managed-policy';

export interface CaptureDecision {
  blocked: boolean;
  /** A sentence for the user when blocked. */
  reason?: string;
}

interface SiteFilter {
  scheme?: string;
  host: string;
  exactHost: boolean;
  port?: string;
  pathPrefix: string;
}

/** Decodes percent-escapes of unreserved characters (`%70` is `p`: servers treat them the same), then lowercases. */
function normalizePath(path: string): string {
  return path.replace(/%([0-9a-f]{2})/gi, (esc, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[a-z0-9\-._~]/i.test(c) ? c : esc;
  }).toLowerCase();
}

/** A filter's host as browsers report hosts (IDN in punycode); unchanged when it is not a valid host. */
function normalizeHost(host: string): string {
  if (host === '*' || /^[a-z0-9.-]*$/.test(host)) return host.replace(/\.$/, '');
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return host;
  }
}

export function parseSiteFilter(filter: string): SiteFilter | undefined {
  let rest = filter.trim().toLowerCase();
  if (!rest) return undefined;
  let scheme: string | undefined;
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//.exec(rest);
  if (schemeMatch) {
    scheme = schemeMatch[1];
    rest = rest.slice(schemeMatch[0].length);
  }
  const slash = rest.search(/[/?#]/);
  let hostPort = slash === -1 ? rest : rest.slice(0, slash);
  const pathPrefix = slash === -1 ? '' : normalizePath(rest.slice(slash).replace(/[?#].*$/, ''));
  let port: string | undefined;
  const portMatch = /:(\d+)$/.exec(hostPort);
  if (portMatch) {
    port = portMatch[1];
    hostPort = hostPort.slice(0, -portMatch[0].length);
  }
  const exactHost = hostPort.startsWith('.');
  const host = normalizeHost(exactHost ? hostPort.slice(1) : hostPort.replace(/^\*\./, ''));
  if (!host) return undefined;
  return { scheme, host, exactHost, port, pathPrefix };
}

/** Does `url` match one of the URLBlocklist-style filters? */
export function matchesSiteFilters(url: string, filters: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return true;
  }
  const scheme = u.protocol.replace(/:$/, '');
  const host = u.hostname.toLowerCase().replace(/\.$/, '');
  const port = u.port || (scheme === 'https' ? '443' : scheme === 'http' ? '80' : '');
  for (const raw of filters) {
    const f = parseSiteFilter(raw);
    if (!f) continue;
    if (f.scheme && f.scheme !== scheme) continue;
    if (f.port && f.port !== port) continue;
    const hostOk = f.host === '*' || host === f.host || (!f.exactHost && host.endsWith(`.${f.host}`));
    if (!hostOk) continue;
    if (f.pathPrefix && !normalizePath(u.pathname).startsWith(f.pathPrefix)) continue;
    return true;
  }
  return false;
}

/** The decision for a known policy (pure; the tests and the background use it). */
export function decideCapture(url: string, policy: ManagedPolicy): CaptureDecision {
  let scheme = '';
  try {
    scheme = new URL(url).protocol;
  } catch {
    return { blocked: true, reason: 'This is not a web page Deputy can read.' };
  }
  if (scheme !== 'http:' && scheme !== 'https:') return { blocked: true, reason: 'Deputy only reads web pages (http and https).' };
  if (policy.status === 'pending') {
    return { blocked: true, reason: "Your organization's policy has not loaded yet. Try again in a moment." };
  }
  if (matchesSiteFilters(url, policy.values.captureBlockedSites ?? [])) {
    return { blocked: true, reason: 'Your organization does not allow Deputy to read this site.' };
  }
  return { blocked: false };
}

/** Waits for the policy like a page that needs it to start (Chromium answers the first read ~2.7 s after launch). */
export async function captureDecision(url: string, options?: ReadOptions): Promise<CaptureDecision> {
  return decideCapture(url, await readManagedPolicy({ timeoutMs: BOOT_MANAGED_TIMEOUT_MS, ...options }));
}

export async function isCaptureBlocked(url: string, options?: ReadOptions): Promise<boolean> {
  return (await captureDecision(url, options)).blocked;
}
