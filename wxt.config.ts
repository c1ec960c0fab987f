import { defineConfig } from 'wxt';
import { EXTENSION_PUBLIC_KEY } from './lib/defaults';

// See https://wxt.dev/api/config.html
export default defineConfig({
  modules: ['@wxt-dev/module-react'],
  manifest: ({ browser }) => ({
    name: 'Deputy',
    description: 'An AI assistant that acts only within the authority you delegate.',
    // Pinned id: redirect URIs (https://<id>.chromiumapp.org/) and CORS origins stay stable for unpacked builds.
    ...(browser === 'chrome' ? { key: EXTENSION_PUBLIC_KEY } : {}),
    permissions: ['storage', 'identity', ...(browser === 'chrome' ? ['sidePanel'] : [])],
    // No web page and no other extension may message us (X1, X3).
    externally_connectable: { ids: [], matches: [] },
    action: { default_title: 'Open Deputy' },
  }),
});
