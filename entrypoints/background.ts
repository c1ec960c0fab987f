import { defineBackground } from 'wxt/utils/define-background';
import { handleCommand, handleMenuClick, handleOpen, listenForPageActions, registerContextMenus } from '../background/context-menus';
import { handleActionClicksOurselves } from '../background/open-panel';
import { watchOrganizationPolicy } from '../background/managed-policy-watch';

export default defineBackground(() => {
  void handleActionClicksOurselves();
  listenForPageActions();
  void registerContextMenus();
  watchOrganizationPolicy();
  // The exact handlers the menu and the command call, reachable from the worker's own console (and e2e tests,
  // which cannot synthesize a context-menu click). Only this extension's worker can see them.
  (globalThis as unknown as { deputyPageActions: unknown }).deputyPageActions = { handleMenuClick, handleCommand, handleOpen };
});
