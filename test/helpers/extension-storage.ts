/**
 * What an extension page's origin keeps outside storage.session (storage.local, localStorage, sessionStorage,
 * IndexedDB, cookies), for tests that check no token was persisted (X4).
 */
import type { Page } from 'playwright-core';

export async function dumpPersistentStores(page: Page): Promise<unknown> {
  // A string: inner functions compiled with keepNames would reference a `__name` helper missing in the page.
  return page.evaluate(`(async () => {
    const readDb = (name) => new Promise((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const out = {};
        const stores = Array.from(db.objectStoreNames);
        if (stores.length === 0) { db.close(); return resolve(out); }
        const tx = db.transaction(stores, 'readonly');
        for (const s of stores) {
          const req = tx.objectStore(s).getAll();
          req.onsuccess = () => { out[s] = req.result; };
        }
        tx.oncomplete = () => { db.close(); resolve(out); };
        tx.onerror = () => reject(tx.error);
      };
    });
    const idb = {};
    for (const d of await indexedDB.databases()) if (d.name) idb[d.name] = await readDb(d.name);
    const ls = {};
    for (let i = 0; i < localStorage.length; i++) ls[localStorage.key(i)] = localStorage.getItem(localStorage.key(i));
    const ss = {};
    for (let i = 0; i < sessionStorage.length; i++) ss[sessionStorage.key(i)] = sessionStorage.getItem(sessionStorage.key(i));
    const local = await chrome.storage.local.get(null);
    return { storageLocal: local, localStorage: ls, sessionStorage: ss, indexedDB: idb, cookie: document.cookie };
  })()`);
}
