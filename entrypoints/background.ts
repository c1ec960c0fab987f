import { defineBackground } from 'wxt/utils/define-background';
import { openPanelOnActionClick } from '../background/side-panel';

export default defineBackground(() => {
  void openPanelOnActionClick();
});
