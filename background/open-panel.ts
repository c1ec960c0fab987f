import { browser } from 'wxt/browser';

interface SidePanelApi {
  open(options: { windowId?: number; tabId?: number }): Promise<void>;
  setPanelBehavior?(behavior: { openPanelOnActionClick: boolean }): Promise<void>;
}
interface SidebarActionApi {
  open(): Promise<void>;
}

/**
 * Opens Deputy's panel in `windowId`: Chrome's `sidePanel.open`, Firefox's `sidebarAction.open` (Firefox has no
 * `sidePanel`). Call it synchronously from the user's gesture (menu click, command, toolbar click), before any
 * `await`: both browsers refuse it once the gesture is over. Never throws: the promise says whether it opened
 * (a panel that is already open, or a call outside a gesture, still gets the pending action when it mounts).
 */
export function openPanel(windowId: number | undefined): Promise<boolean> {
  const api = browser as unknown as { sidePanel?: SidePanelApi; sidebarAction?: SidebarActionApi };
  try {
    let opened: Promise<void> | undefined;
    if (api.sidePanel?.open) opened = api.sidePanel.open(windowId !== undefined && windowId >= 0 ? { windowId } : {});
    else if (api.sidebarAction?.open) opened = api.sidebarAction.open();
    if (!opened) return Promise.resolve(false);
    return opened.then(
      () => true,
      (e: unknown) => {
        console.warn('Deputy: could not open the panel', e);
        return false;
      },
    );
  } catch (e) {
    console.warn('Deputy: could not open the panel', e);
    return Promise.resolve(false);
  }
}

/**
 * The toolbar button opens the panel from `action.onClicked` (background/context-menus.ts) rather than
 * `openPanelOnActionClick`: a click the extension handles grants `activeTab` on that tab, so the panel can read the
 * page the user is on (a click that only opens the panel does not).
 */
export async function handleActionClicksOurselves(): Promise<void> {
  const api = browser as unknown as { sidePanel?: SidePanelApi };
  await api.sidePanel?.setPanelBehavior?.({ openPanelOnActionClick: false }).catch(() => {});
}
