import { useEffect, useState } from 'react';
import { loadSitePrefs, setSiteBlocked, setSiteIncluded, type SitePrefs, watchSitePrefs } from '@/lib/site-prefs';

/** Settings: the sites the user told Deputy never to read, and those whose page is not included in messages. */
export function BlockedSitesSettings() {
  const [prefs, setPrefs] = useState<SitePrefs | null>(null);
  useEffect(() => {
    void loadSitePrefs().then(setPrefs);
    return watchSitePrefs(setPrefs);
  }, []);
  if (!prefs) return null;
  return (
    <div data-testid="site-prefs">
      <p>Deputy reads a page only when you ask it to (toolbar button, right-click menu, Alt+Shift+D). These sites are never read:</p>
      {prefs.blocked.length === 0 ? (
        <p className="options-hint" data-testid="blocked-sites-empty">
          None. Use “Block site” under the page in the side panel.
        </p>
      ) : (
        <ul data-testid="blocked-sites">
          {prefs.blocked.map((site) => (
            <li key={site} data-site={site}>
              {site}{' '}
              <button type="button" onClick={() => void setSiteBlocked(site, false)} data-testid="unblock-site">
                Allow
              </button>
            </li>
          ))}
        </ul>
      )}
      {prefs.excluded.length > 0 && (
        <>
          <p>Read, but not included in your messages (“Include this page” off):</p>
          <ul data-testid="excluded-sites">
            {prefs.excluded.map((site) => (
              <li key={site}>
                {site}{' '}
                <button type="button" onClick={() => void setSiteIncluded(site, true)}>
                  Include again
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
