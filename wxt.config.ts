import { defineConfig } from 'wxt';
import { EXTENSION_PUBLIC_KEY, FIREFOX_EXTENSION_ID } from './lib/defaults';

// See https://wxt.dev/api/config.html
export default defineConfig({
  modules: ['@wxt-dev/module-react'],
  manifest: ({ browser, mode }) => ({
    name: 'Deputy',
    description: 'An AI assistant that acts only within the authority you delegate.',
    // Pinned id: redirect URIs (https://<id>.chromiumapp.org/) and CORS origins stay stable for unpacked builds.
    // The Chrome Web Store refuses a `key` and assigns its own id: store builds (`npm run zip`, mode "store") omit it.
    ...(browser === 'chrome' && mode !== 'store' ? { key: EXTENSION_PUBLIC_KEY } : {}),
    // contextMenus/activeTab/scripting: page capture only on a user action (menu, command, toolbar click), no content script.
    permissions: ['storage', 'identity', 'contextMenus', 'activeTab', 'scripting', ...(browser === 'chrome' ? ['sidePanel'] : [])],
    // No web page and no other extension may message us (X1, X3).
    externally_connectable: { ids: [], matches: [] },
    action: { default_title: 'Open Deputy' },
    commands: { 'open-deputy': { suggested_key: { default: 'Alt+Shift+D' }, description: 'Open Deputy on this page' } },
    // Enterprise policy (lib/managed-policy.ts). Chrome validates admin values against it; Firefox reads 3rdparty policy without one.
    ...(browser === 'chrome' ? { storage: { managed_schema: 'managed_schema.json' } } : {}),
    ...(browser === 'firefox'
      ? {
          browser_specific_settings: {
            gecko: {
              // Explicit id: browser.identity.getRedirectURL() (https://<sha1(id)>.extensions.allizom.org/) stays stable.
              id: FIREFOX_EXTENSION_ID,
              // 142: the first version (desktop and Android) that knows data_collection_permissions.
              strict_min_version: '142.0',
              // Honest: the user's messages, pages they choose to include, and their sign-in go to the Deputy backend.
              data_collection_permissions: {
                required: ['websiteContent', 'personalCommunications', 'authenticationInfo', 'personallyIdentifyingInfo'],
              },
            },
          },
        }
      : {}),
  }),
});
