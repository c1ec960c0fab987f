/** What the panel shows of page context: the chip (URL, capture time, how much was read), loud failures, and the
 * provenance of the context a user turn carried (a selection is quoted as text, never rendered as markup). */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ContextRefs } from '../../components/ContextRefs';
import { PageContextBar } from '../../components/PageContextBar';
import type { PageContextApi } from '../../components/use-page-context';
import type { Capture } from '../../lib/page-capture';

const capture: Capture = {
  tabId: 1,
  url: 'https://news.example/harbours',
  title: 'Harbours',
  capturedAt: '2026-11-30T10:00:00.000Z',
  page: {
    kind: 'page',
    url: 'https://news.example/harbours',
    title: 'Harbours',
    text: 'x'.repeat(20_000),
    capturedAt: '2026-11-30T10:00:00.000Z',
    truncated: { readChars: 20_000, totalChars: 64_512 },
  },
  fullText: 'x'.repeat(64_512),
};

const ctx = (over: Partial<PageContextApi>): PageContextApi => ({
  reading: false,
  changed: false,
  prefs: { blocked: [], excluded: [] },
  included: false,
  read: async () => capture,
  clear: () => {},
  ...over,
});

const render = (c: PageContextApi) => renderToStaticMarkup(<PageContextBar ctx={c} onSavePage={() => {}} saving={false} />);

describe('the context chip', () => {
  it('shows the URL, the capture time, and how much of a long page was read', () => {
    const html = render(ctx({ tabId: 1, capture, included: true }));
    expect(html).toContain('data-url="https://news.example/harbours"');
    expect(html).toContain('news.example/harbours');
    expect(html).toMatch(/read at /);
    expect(html).toContain('first 20,000 of 64,512 characters');
    expect(html).toContain('data-included="true"');
    expect(html).toMatch(/Save page/);
  });

  it('fails loudly with the reason, and offers to try again', () => {
    const html = render(ctx({ tabId: 1, error: { code: 'plain_text', message: 'This tab shows a plain-text file, not a web page.' } }));
    expect(html).toContain('role="alert"');
    expect(html).toContain('data-code="plain_text"');
    expect(html).toContain('Page not read.');
    expect(html).toContain('plain-text file');
  });

  it('after a navigation it says the page changed instead of showing the old one', () => {
    const html = render(ctx({ tabId: 1, changed: true }));
    expect(html).toContain('The page changed since Deputy read it.');
    expect(html).not.toContain('page-chip');
  });

  it('shows nothing when there is no page next to the panel', () => {
    expect(render(ctx({}))).toBe('');
  });
});

describe('context on a user turn', () => {
  it('quotes a selection as plain text with where it came from and when', () => {
    const html = renderToStaticMarkup(
      <ContextRefs
        items={[
          { kind: 'selection', url: 'https://news.example/harbours', title: 'Harbours', capturedAt: '2026-11-30T10:00:00.000Z', quote: '<img src=x onerror=alert(1)> **bold**' },
          { kind: 'page', url: 'https://news.example/harbours', capturedAt: '2026-11-30T10:00:00.000Z', truncated: { readChars: 20_000, totalChars: 64_512 } },
        ]}
      />,
    );
    expect(html).not.toMatch(/<img|<strong/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; **bold**');
    expect(html).toContain('Selection from Harbours — news.example/harbours');
    expect(html).toContain('first 20,000 of 64,512 characters');
  });
});

describe('G3 a page title cannot rewrite the provenance shown next to it', () => {
  // U+202E (right-to-left override) in a title would visually reverse what follows on the same line: the host and
  // path, so "evil.example/moc.knab" reads "bank.com/elpmaxe.live". Invisible and direction characters are shown.
  const title = 'Statement \u202E';
  const url = 'https://evil.example/moc.knab';

  it('the provenance line of a user turn, the page chip and the quoted selection show them as ⟨U+202E⟩', async () => {
    const { QuotePreview } = await import('../../components/PagePanelParts');
    const refs = renderToStaticMarkup(<ContextRefs items={[{ kind: 'selection', url, title, capturedAt: '2026-11-30T10:00:00.000Z', quote: 'a quote' }]} />);
    const chip = render(ctx({ tabId: 1, capture: { ...capture, url, title, page: { ...capture.page, url, title } } }));
    const quote = renderToStaticMarkup(<QuotePreview item={{ kind: 'selection', url, title, text: 'hello', capturedAt: '2026-11-30T10:00:00.000Z' }} onRemove={() => {}} />);
    for (const html of [refs, chip, quote]) {
      expect(html).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200E\u200F]/);
      expect(html).toContain('Statement ⟨U+202E⟩');
    }
  });
});
