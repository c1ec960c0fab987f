/**
 * The page the panel is next to: the active tab of the panel's window, followed as the user switches tabs, and what
 * Deputy read of it (only on a user action: the toolbar button, a menu, the keyboard command, "Read this page",
 * refresh). A capture belongs to one tab and one document: switching tabs or navigating drops it, so the chip never
 * shows (and a message never carries) a stale page.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { browser } from 'wxt/browser';
import { type Capture, CaptureError, captureTab } from '@/lib/page-capture';
import { isIncluded, isUserBlocked, loadSitePrefs, type SitePrefs, watchSitePrefs } from '@/lib/site-prefs';

export interface PageContextState {
  /** The panel's window (undefined until known). */
  windowId?: number;
  /** The tab followed (undefined: none, e.g. the panel itself is the active tab). */
  tabId?: number;
  capture?: Capture;
  reading: boolean;
  /** Why the last read failed (shown loudly), or why the page is not shown ("page changed"). */
  error?: { code: string; message: string };
  /** Set when the followed tab navigated away from the captured page. */
  changed: boolean;
  prefs: SitePrefs;
}

export interface PageContextApi extends PageContextState {
  /** Reads the followed tab (or `tabId`) now; resolves with the capture or the error. */
  read(tabId?: number): Promise<Capture | CaptureError>;
  /** Forgets the captured page. */
  clear(): void;
  /** The capture is there and the user's switch includes it in messages. */
  included: boolean;
}

const EMPTY_PREFS: SitePrefs = { blocked: [], excluded: [] };

export function usePageContext(): PageContextApi {
  const [state, setState] = useState<PageContextState>({ reading: false, changed: false, prefs: EMPTY_PREFS });
  const tabRef = useRef<number | undefined>(undefined);
  /** Bumped on every tab switch or navigation: a read started before it is discarded. */
  const generation = useRef(0);
  const prefsRef = useRef<SitePrefs>(EMPTY_PREFS);

  const follow = useCallback((tabId: number | undefined) => {
    generation.current++;
    tabRef.current = tabId;
    setState((s) => ({ ...s, tabId, capture: undefined, error: undefined, changed: false, reading: false }));
  }, []);

  useEffect(() => {
    let live = true;
    let windowId: number | undefined;
    /** The panel's own tab when it is opened as a tab (never a page to read). */
    let selfId: number | undefined;
    void (async () => {
      const [win, self, prefs] = await Promise.all([
        browser.windows.getCurrent(),
        browser.tabs.getCurrent().catch(() => undefined),
        loadSitePrefs().catch(() => EMPTY_PREFS),
      ]);
      if (!live) return;
      windowId = win.id;
      selfId = self?.id;
      prefsRef.current = prefs;
      const [active] = await browser.tabs.query({ active: true, windowId });
      if (!live) return;
      setState((s) => ({ ...s, windowId, prefs }));
      // Opened as a tab (tests, "open in tab"): the active tab is the panel itself, which is never a page to read.
      follow(active?.id !== undefined && active.id !== selfId ? active.id : undefined);
    })();

    const onActivated = (info: { tabId: number; windowId: number }) => {
      if (info.windowId === windowId) follow(info.tabId === selfId ? undefined : info.tabId);
    };
    const onUpdated = (tabId: number, change: { status?: string; url?: string; discarded?: boolean }) => {
      if (tabId !== tabRef.current) return;
      if (change.url !== undefined || change.status === 'loading' || change.discarded) {
        generation.current++;
        setState((s) => (s.capture || s.reading ? { ...s, capture: undefined, reading: false, changed: true, error: undefined } : s));
      }
    };
    const onRemoved = (tabId: number) => {
      if (tabId === tabRef.current) follow(undefined);
    };
    browser.tabs.onActivated.addListener(onActivated);
    browser.tabs.onUpdated.addListener(onUpdated);
    browser.tabs.onRemoved.addListener(onRemoved);
    const offPrefs = watchSitePrefs((prefs) => {
      prefsRef.current = prefs;
      setState((s) => {
        // Blocked now: drop what was read from that site at once.
        const drop = s.capture && isUserBlocked(s.capture.url, prefs);
        return { ...s, prefs, ...(drop ? { capture: undefined } : {}) };
      });
    });
    return () => {
      live = false;
      browser.tabs.onActivated.removeListener(onActivated);
      browser.tabs.onUpdated.removeListener(onUpdated);
      browser.tabs.onRemoved.removeListener(onRemoved);
      offPrefs();
    };
  }, [follow]);

  const read = useCallback(async (tabId?: number): Promise<Capture | CaptureError> => {
    const target = tabId ?? tabRef.current;
    if (target === undefined) {
      const err = new CaptureError('no_tab', 'There is no web page next to the panel to read.');
      setState((s) => ({ ...s, error: { code: err.code, message: err.message } }));
      return err;
    }
    if (target !== tabRef.current) follow(target);
    const gen = generation.current;
    setState((s) => ({ ...s, reading: true, error: undefined }));
    try {
      const capture = await captureTab(target, { prefs: prefsRef.current });
      if (gen === generation.current) setState((s) => ({ ...s, capture, reading: false, changed: false }));
      return capture;
    } catch (e) {
      const err = e instanceof CaptureError ? e : new CaptureError('failed', `Deputy could not read this page (${String(e)}).`, { cause: e });
      if (gen === generation.current) setState((s) => ({ ...s, capture: undefined, reading: false, error: { code: err.code, message: err.message } }));
      return err;
    }
  }, [follow]);

  const clear = useCallback(() => {
    generation.current++;
    setState((s) => ({ ...s, capture: undefined, reading: false, error: undefined, changed: false }));
  }, []);

  const included = !!state.capture && isIncluded(state.capture.url, state.prefs);
  return { ...state, read, clear, included };
}
