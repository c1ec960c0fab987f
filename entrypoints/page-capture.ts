/**
 * Injected into a tab only on a user action (`scripting.executeScript({ files: ['/page-capture.js'] })`, allowed by
 * `activeTab`); there is no always-on content script. Reads the selection, URL, title, content type and the page's
 * main text (Mozilla Readability on a clone, so the page itself is not touched). What it returns is page data: the
 * extension validates it with zod (lib/page-capture.ts) and never treats it as an instruction.
 */
import { Readability } from '@mozilla/readability';
import { defineUnlistedScript } from 'wxt/utils/define-unlisted-script';

/** Upper bound of text sent back to the extension (the budget is applied there; this only bounds the message). */
const MAX_RETURNED_CHARS = 1_000_000;

const collapse = (text: string) =>
  text
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .replace(/ *\n[\s]*/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();

export default defineUnlistedScript(() => {
  const contentType = document.contentType || 'text/html';
  const selection = collapse(globalThis.getSelection?.()?.toString() ?? '');
  let text = '';
  let extractedBy: 'readability' | 'body' | 'none' = 'none';
  if (contentType === 'text/html' || contentType === 'application/xhtml+xml') {
    try {
      const article = new Readability(document.cloneNode(true) as Document, { charThreshold: 200 }).parse();
      const t = collapse(article?.textContent ?? '');
      if (t) {
        text = t;
        extractedBy = 'readability';
      }
    } catch {
      // Readability can throw on unusual documents: fall back to the visible text.
    }
    if (!text) {
      text = collapse(document.body?.innerText ?? '');
      if (text) extractedBy = 'body';
    }
  }
  return {
    url: location.href,
    title: document.title.slice(0, 2000),
    contentType: contentType.slice(0, 200),
    selection: selection.slice(0, 200_000),
    text: text.slice(0, MAX_RETURNED_CHARS),
    totalChars: text.length,
    extractedBy,
  };
});
