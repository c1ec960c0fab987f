import { browser } from 'wxt/browser';

/** Clicking the toolbar button opens the side panel (Chrome). Browsers without `sidePanel` keep their default. */
export async function openPanelOnActionClick(): Promise<boolean> {
  const sidePanel = (browser as unknown as { sidePanel?: { setPanelBehavior?: (b: { openPanelOnActionClick: boolean }) => Promise<void> } })
    .sidePanel;
  if (!sidePanel?.setPanelBehavior) return false;
  try {
    await sidePanel.setPanelBehavior({ openPanelOnActionClick: true });
    return true;
  } catch (e) {
    console.warn('Deputy: could not set the side panel behaviour', e);
    return false;
  }
}
