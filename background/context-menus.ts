/**
 * Deputy's context menus and keyboard command. The handlers are plain functions (context-menu clicks cannot be
 * synthesized in tests): `handleMenuClick(info, tab)` is exactly what `contextMenus.onClicked` calls.
 *
 * A click opens the panel (within the gesture) and leaves a pending action for the panel's window
 * (lib/page-actions.ts). The selection travels as page data; the panel turns the action into the user's own turn.
 */
import { browser } from 'wxt/browser';
import { type ActionKind, hasPendingAction, languageName, type PendingAction, putPendingAction, TRANSLATE_LANGUAGES } from '@/lib/page-actions';
import { openPanel } from './open-panel';

export const MENU = {
  ask: 'deputy-ask',
  explain: 'deputy-explain',
  summarize: 'deputy-summarize',
  translate: 'deputy-translate',
  translateTo: 'deputy-translate-to',
  save: 'deputy-save',
  summarizePage: 'deputy-summarize-page',
} as const;

/** The id of the "Translate to <language>" submenu entry. */
export const translateMenuId = (lang: string) => `${MENU.translateTo}:${lang}`;

export const OPEN_PANEL_COMMAND = 'open-deputy';

export interface MenuItem {
  id: string;
  title: string;
  contexts: ('selection' | 'page')[];
  parentId?: string;
}

/** The browser's UI language as a base BCP 47 code ("en-GB" → "en"). */
export function uiLanguage(): string {
  let lang = '';
  try {
    lang = (browser as unknown as { i18n?: { getUILanguage?(): string } }).i18n?.getUILanguage?.() ?? '';
  } catch {
    // No i18n API (test doubles): the navigator's language.
  }
  lang ||= globalThis.navigator?.language || 'en';
  return lang.split(/[-_]/)[0].toLowerCase() || 'en';
}

export function menuItems(lang = uiLanguage()): MenuItem[] {
  const sel = ['selection'] as MenuItem['contexts'];
  return [
    { id: MENU.ask, title: 'Ask Deputy about “%s”', contexts: sel },
    { id: MENU.explain, title: 'Explain', contexts: sel },
    { id: MENU.summarize, title: 'Summarize', contexts: sel },
    { id: MENU.translate, title: `Translate to ${languageName(lang)}`, contexts: sel },
    { id: MENU.translateTo, title: 'Translate to…', contexts: sel },
    ...TRANSLATE_LANGUAGES.filter((l) => l !== lang).map((l) => ({ id: translateMenuId(l), title: languageName(l), contexts: sel, parentId: MENU.translateTo })),
    { id: MENU.save, title: 'Save to knowledge base', contexts: sel },
    { id: MENU.summarizePage, title: 'Summarize this page', contexts: ['page'] },
  ];
}

interface ContextMenusApi {
  create(item: MenuItem, callback?: () => void): unknown;
  removeAll(callback?: () => void): unknown;
  onClicked: { addListener(cb: (info: MenuClickInfo, tab?: MenuTab) => void): void };
}

/** The fields of `contextMenus.OnClickData` / `tabs.Tab` the handler reads. */
export interface MenuClickInfo {
  menuItemId: string | number;
  selectionText?: string;
  pageUrl?: string;
  frameUrl?: string;
}
export interface MenuTab {
  id?: number;
  windowId?: number;
  title?: string;
  url?: string;
}

export interface HandlerDeps {
  openPanel(windowId: number | undefined): Promise<boolean>;
  putPendingAction(action: PendingAction): Promise<void>;
  hasPendingAction(windowId: number): Promise<boolean>;
  now(): Date;
  newId(): string;
  uiLanguage(): string;
}

const defaultDeps: HandlerDeps = {
  openPanel,
  putPendingAction: (a) => putPendingAction(a),
  hasPendingAction: (windowId) => hasPendingAction(windowId),
  now: () => new Date(),
  newId: () => crypto.randomUUID(),
  uiLanguage,
};

/** Which action a menu id stands for (undefined: not ours). */
export function actionForMenu(menuItemId: string | number, lang: string): { kind: ActionKind; language?: string } | undefined {
  const id = String(menuItemId);
  if (id.startsWith(`${MENU.translateTo}:`)) return { kind: 'translate', language: id.slice(MENU.translateTo.length + 1) };
  switch (id) {
    case MENU.ask:
      return { kind: 'ask' };
    case MENU.explain:
      return { kind: 'explain' };
    case MENU.summarize:
      return { kind: 'summarize' };
    case MENU.translate:
      return { kind: 'translate', language: lang };
    case MENU.save:
      return { kind: 'save' };
    case MENU.summarizePage:
      return { kind: 'summarize-page' };
    default:
      return undefined;
  }
}

/**
 * `contextMenus.onClicked`: opens the panel first (still inside the gesture), then records the action for the
 * panel of that window. Returns the action recorded (undefined for clicks that are not ours or have no window).
 */
export async function handleMenuClick(info: MenuClickInfo, tab: MenuTab | undefined, deps: HandlerDeps = defaultDeps): Promise<PendingAction | undefined> {
  const lang = deps.uiLanguage();
  const what = actionForMenu(info.menuItemId, lang);
  if (!what || tab?.windowId === undefined) return undefined;
  const opening = deps.openPanel(tab.windowId);
  const selection = what.kind === 'summarize-page' ? undefined : info.selectionText?.slice(0, 100_000);
  // A selection in a frame: the frame is where the text comes from, the tab's page is the site the user is on. The
  // organization's and the user's block lists apply to both (a blocked page's embedded frames are not a way around).
  const topPageUrl = info.frameUrl ? (info.pageUrl ?? tab.url) : undefined;
  const pageUrl = info.frameUrl ?? info.pageUrl ?? tab.url;
  const action: PendingAction = {
    id: deps.newId(),
    kind: what.kind,
    windowId: tab.windowId,
    ...(tab.id !== undefined && tab.id >= 0 ? { tabId: tab.id } : {}),
    ...(selection ? { selection } : {}),
    ...(pageUrl ? { pageUrl: pageUrl.slice(0, 4096) } : {}),
    ...(topPageUrl && topPageUrl !== info.frameUrl ? { topPageUrl: topPageUrl.slice(0, 4096) } : {}),
    ...(tab.title ? { pageTitle: tab.title.slice(0, 500) } : {}),
    ...(what.language ? { language: what.language } : {}),
    createdAt: deps.now().toISOString(),
  };
  await deps.putPendingAction(action);
  await opening;
  return action;
}

/**
 * The toolbar button and the keyboard command: open the panel, and (being a gesture that grants `activeTab`) ask it
 * to read the page the user is on.
 */
export async function handleOpen(tab: MenuTab | undefined, deps: HandlerDeps = defaultDeps): Promise<boolean> {
  const opening = deps.openPanel(tab?.windowId);
  // A menu action the panel has not taken yet (it was closed) is not replaced: it reads the page itself if it needs to.
  if (tab?.windowId !== undefined && !(await deps.hasPendingAction(tab.windowId))) {
    await deps.putPendingAction({
      id: deps.newId(),
      kind: 'open',
      windowId: tab.windowId,
      ...(tab.id !== undefined && tab.id >= 0 ? { tabId: tab.id } : {}),
      createdAt: deps.now().toISOString(),
    });
  }
  return opening;
}

/** `commands.onCommand`. */
export async function handleCommand(command: string, tab: MenuTab | undefined, deps: HandlerDeps = defaultDeps): Promise<boolean> {
  if (command !== OPEN_PANEL_COMMAND) return false;
  return handleOpen(tab, deps);
}

/** (Re)creates the menus. Safe to call on every service-worker start: it removes what was there first. */
export async function registerContextMenus(api: ContextMenusApi | null | undefined = contextMenusApi()): Promise<boolean> {
  if (!api) return false;
  await new Promise<void>((resolve) => api.removeAll(() => resolve()));
  for (const item of menuItems()) {
    await new Promise<void>((resolve) =>
      api.create(item, () => {
        // Read lastError so a duplicate id (two quick restarts) is not reported as unchecked.
        void (browser.runtime as unknown as { lastError?: unknown }).lastError;
        resolve();
      }),
    );
  }
  return true;
}

function contextMenusApi(): ContextMenusApi | undefined {
  const b = browser as unknown as { contextMenus?: ContextMenusApi; menus?: ContextMenusApi };
  return b.contextMenus ?? b.menus;
}

/** Wires the listeners (synchronously, at the top level of the service worker, as MV3 requires). */
export function listenForPageActions(): void {
  contextMenusApi()?.onClicked.addListener((info, tab) => void handleMenuClick(info, tab));
  const action = (browser as unknown as { action?: { onClicked: { addListener(cb: (tab: MenuTab) => void): void } } }).action;
  action?.onClicked.addListener((tab) => void handleOpen(tab));
  const commands = (browser as unknown as { commands?: { onCommand: { addListener(cb: (c: string, tab?: MenuTab) => void): void } } }).commands;
  commands?.onCommand.addListener((command, tab) => void handleCommand(command, tab));
}
