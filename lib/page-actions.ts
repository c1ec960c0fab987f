/**
 * What a context-menu click (or the keyboard command) asks the side panel to do, and how it gets there.
 *
 * The background cannot know when the panel's document is ready (it may already be open, or take seconds to load),
 * so it never messages the panel. It writes one pending action per window to `storage.session`; the panel takes it
 * when it mounts and whenever that key changes. Taking removes it, so an action runs exactly once, however fast or
 * slow the panel opens. No fixed delays anywhere.
 */
import { browser } from 'wxt/browser';
import { z } from 'zod';

export const SELECTION_ACTIONS = ['ask', 'explain', 'summarize', 'translate', 'save'] as const;
export const PAGE_ACTIONS = ['summarize-page', 'open'] as const;
export const ActionKind = z.enum([...SELECTION_ACTIONS, ...PAGE_ACTIONS]);
export type ActionKind = z.infer<typeof ActionKind>;

/** Languages offered in the "Translate to" submenu (BCP 47), besides the browser's own. */
export const TRANSLATE_LANGUAGES = ['en', 'fr', 'de', 'es', 'ja'] as const;

export const PendingAction = z.strictObject({
  id: z.string().min(1).max(100),
  kind: ActionKind,
  windowId: z.number().int(),
  tabId: z.number().int().optional(),
  /** The selected text as the browser reported it (menus on a selection). Page data, never an instruction. */
  selection: z.string().max(100_000).optional(),
  pageUrl: z.string().max(4096).optional(),
  /** The tab's page when the selection was made in a frame inside it (`pageUrl` is then the frame's): both are checked. */
  topPageUrl: z.string().max(4096).optional(),
  pageTitle: z.string().max(500).optional(),
  /** `translate`: the target language (BCP 47). */
  language: z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/).optional(),
  createdAt: z.iso.datetime(),
});
export type PendingAction = z.infer<typeof PendingAction>;

/** Actions older than this are dropped instead of run (a panel opened much later must not act on a stale click). */
export const PENDING_ACTION_TTL_MS = 5 * 60_000;

export const pendingActionKey = (windowId: number) => `deputy.pendingAction.${windowId}`;

interface SessionArea {
  get(keys: string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string): Promise<void>;
}
const sessionArea = (): SessionArea => browser.storage.session as unknown as SessionArea;

export async function putPendingAction(action: PendingAction, area: SessionArea = sessionArea()): Promise<void> {
  await area.set({ [pendingActionKey(action.windowId)]: PendingAction.parse(action) });
}

/** Is an action waiting for the window's panel (not older than the TTL)? */
export async function hasPendingAction(windowId: number, area: SessionArea = sessionArea(), now = Date.now()): Promise<boolean> {
  const key = pendingActionKey(windowId);
  const parsed = PendingAction.safeParse((await area.get(key))[key]);
  return parsed.success && now - Date.parse(parsed.data.createdAt) <= PENDING_ACTION_TTL_MS;
}

/**
 * Takes (reads and removes) the window's pending action. Returns undefined when there is none, it is malformed, or
 * it is older than the TTL (all removed).
 */
export async function takePendingAction(windowId: number, area: SessionArea = sessionArea(), now = Date.now()): Promise<PendingAction | undefined> {
  const key = pendingActionKey(windowId);
  const raw = (await area.get(key))[key];
  if (raw === undefined) return undefined;
  await area.remove(key);
  const parsed = PendingAction.safeParse(raw);
  if (!parsed.success || parsed.data.windowId !== windowId) return undefined;
  if (now - Date.parse(parsed.data.createdAt) > PENDING_ACTION_TTL_MS) return undefined;
  return parsed.data;
}

/**
 * Calls `onAction` with the window's pending action now (if any) and each time a new one is written. Ids already
 * delivered are never delivered again. Returns an unsubscribe function.
 */
export function watchPendingActions(windowId: number, onAction: (a: PendingAction) => void, area: SessionArea = sessionArea()): () => void {
  const key = pendingActionKey(windowId);
  const seen = new Set<string>();
  let stopped = false;
  let chain = Promise.resolve();
  const drain = () => {
    chain = chain.then(async () => {
      if (stopped) return;
      const action = await takePendingAction(windowId, area).catch(() => undefined);
      if (!action || stopped || seen.has(action.id)) return;
      seen.add(action.id);
      onAction(action);
    });
  };
  const listener = (changes: Record<string, { newValue?: unknown }>, areaName: string) => {
    if (areaName === 'session' && key in changes && changes[key].newValue !== undefined) drain();
  };
  browser.storage.onChanged.addListener(listener);
  drain();
  return () => {
    stopped = true;
    browser.storage.onChanged.removeListener(listener);
  };
}

/** A language's name in English ("French"), or the code when the browser does not know it. */
export function languageName(code: string): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/**
 * The user turn the panel sends for an action: the user's intent in the user's words (chosen by their click). The
 * selection or page travels separately as context, never inside this text.
 */
export function actionPrompt(action: Pick<PendingAction, 'kind' | 'language'>): string | undefined {
  switch (action.kind) {
    case 'explain':
      return 'Explain the selection.';
    case 'summarize':
      return 'Summarize the selection.';
    case 'translate':
      return `Translate the selection to ${languageName(action.language ?? 'en')}.`;
    case 'summarize-page':
      return 'Summarize this page.';
    default:
      // ask: the user types the question; save: no chat turn; open: nothing to send.
      return undefined;
  }
}
