/**
 * The user's own per-site choices about page capture, in `storage.local` key `sitePrefs`:
 *   - `blocked`: sites Deputy must never read (the user's block list; the organization's is in lib/site-policy.ts);
 *   - `excluded`: sites whose page is not attached to messages ("include this page" switched off).
 * Both hold host names. `pageCaptureDecision(url)` combines the organization's policy with the user's block list.
 */
import { browser } from 'wxt/browser';
import { z } from 'zod';
import { type CaptureDecision, captureDecision } from './site-policy';

export const SITE_PREFS_KEY = 'sitePrefs';

const Host = z.string().trim().toLowerCase().min(1).max(253);
export const SitePrefs = z.object({
  blocked: z.array(Host).max(1000).default([]),
  excluded: z.array(Host).max(1000).default([]),
});
export type SitePrefs = z.infer<typeof SitePrefs>;

const EMPTY: SitePrefs = { blocked: [], excluded: [] };

/** The host a preference is kept under ("www.example.com" and "example.com" are the same site). */
export function siteOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.hostname.toLowerCase().replace(/^www\./, '').replace(/\.$/, '');
  } catch {
    return undefined;
  }
}

export async function loadSitePrefs(): Promise<SitePrefs> {
  const raw = (await browser.storage.local.get(SITE_PREFS_KEY))[SITE_PREFS_KEY];
  const parsed = SitePrefs.safeParse(raw ?? {});
  return parsed.success ? parsed.data : EMPTY;
}

async function update(change: (p: SitePrefs) => SitePrefs): Promise<SitePrefs> {
  const next = SitePrefs.parse(change(await loadSitePrefs()));
  await browser.storage.local.set({ [SITE_PREFS_KEY]: next });
  return next;
}

const toggle = (list: string[], site: string, on: boolean) => (on ? [...new Set([...list, site])] : list.filter((s) => s !== site));

export const setSiteBlocked = (site: string, blocked: boolean) => update((p) => ({ ...p, blocked: toggle(p.blocked, site, blocked) }));
export const setSiteIncluded = (site: string, included: boolean) => update((p) => ({ ...p, excluded: toggle(p.excluded, site, !included) }));

export function isUserBlocked(url: string, prefs: SitePrefs): boolean {
  const site = siteOf(url);
  return !!site && prefs.blocked.some((b) => site === b || site.endsWith(`.${b}`));
}

export function isIncluded(url: string, prefs: SitePrefs): boolean {
  const site = siteOf(url);
  return !!site && !prefs.excluded.includes(site);
}

/** May Deputy read `url`? The organization's policy first (it cannot be overridden), then the user's block list. */
export async function pageCaptureDecision(url: string, prefs?: SitePrefs): Promise<CaptureDecision & { by?: 'organization' | 'user' }> {
  const org = await captureDecision(url);
  if (org.blocked) return { ...org, by: 'organization' };
  if (isUserBlocked(url, prefs ?? (await loadSitePrefs()))) {
    return { blocked: true, by: 'user', reason: 'You blocked Deputy from reading this site.' };
  }
  return { blocked: false };
}

/** Calls `onChange` with the new preferences whenever they change. Returns an unsubscribe function. */
export function watchSitePrefs(onChange: (prefs: SitePrefs) => void): () => void {
  const listener = (changes: Record<string, { newValue?: unknown }>, area: string) => {
    if (area !== 'local' || !(SITE_PREFS_KEY in changes)) return;
    const parsed = SitePrefs.safeParse(changes[SITE_PREFS_KEY].newValue ?? {});
    onChange(parsed.success ? parsed.data : EMPTY);
  };
  browser.storage.onChanged.addListener(listener);
  return () => browser.storage.onChanged.removeListener(listener);
}
