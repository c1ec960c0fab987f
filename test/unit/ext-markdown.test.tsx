import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Markdown, safeUrl } from '../../lib/markdown';

const html = (text: string) => renderToStaticMarkup(<Markdown text={text} />);

describe('markdown safety (G3)', () => {
  it('G3 neutralises javascript:, data: and other non-http links', () => {
    for (const url of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:x', 'file:///etc/passwd', '/relative', 'chrome://settings']) {
      const out = html(`[click me](${url.includes(' ') ? `<${url}>` : url})`);
      expect(out, url).not.toMatch(/href=/i);
      expect(out, url).toContain('click me');
    }
  });

  it('G3 opens safe links in a new tab with noopener noreferrer and shows the target URL', () => {
    const out = html('[docs](https://example.com/a?b=1)');
    expect(out).toContain('href="https://example.com/a?b=1"');
    expect(out).toContain('target="_blank"');
    expect(out).toContain('rel="noopener noreferrer"');
    expect(out).toMatch(/docs<span class="md-link-url"> \(https:\/\/example\.com\/a\?b=1\)<\/span>/);
  });

  it('G3 does not repeat the URL for autolinks', () => {
    const out = html('see https://example.com/x');
    expect(out).toContain('href="https://example.com/x"');
    expect(out).not.toContain('md-link-url');
  });

  it('G3 shows raw HTML as text: no <script>, no <img onerror>', () => {
    const out = html('hello <script>alert(1)</script> and <img src=x onerror="alert(2)"> and <a href="javascript:x">y</a>');
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toMatch(/<img/i);
    expect(out).not.toMatch(/<a href="javascript/i);
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;');
  });

  it('G3 never loads images: an image becomes a visible link to its URL', () => {
    const out = html('![a cat](https://tracker.example.com/pixel.png)');
    expect(out).not.toMatch(/<img/i);
    expect(out).toContain('href="https://tracker.example.com/pixel.png"');
    expect(out).toContain('Image: a cat');
    expect(out).toContain('(https://tracker.example.com/pixel.png)');
    const bad = html('![x](javascript:alert(1))');
    expect(bad).not.toMatch(/<img|href=/i);
  });

  it('G3 renders GFM (tables, strikethrough) and code safely', () => {
    const out = html('| a | b |\n|---|---|\n| 1 | ~~2~~ |\n\n```\n<b>x</b>\n```');
    expect(out).toContain('<table>');
    expect(out).toContain('<del>2</del>');
    expect(out).toContain('&lt;b&gt;x&lt;/b&gt;');
  });

  it('G3 safeUrl accepts only absolute http(s) and mailto', () => {
    expect(safeUrl('https://a.b/')).toBe('https://a.b/');
    expect(safeUrl('mailto:x@y.z')).toBe('mailto:x@y.z');
    expect(safeUrl(' javascript:alert(1)')).toBeUndefined();
    expect(safeUrl('data:image/png;base64,AAAA')).toBeUndefined();
    expect(safeUrl('//evil.example')).toBeUndefined();
  });

  it('G3 reference-style and HTML images are not loaded either', () => {
    const ref = html('![logo][1]\n\n[1]: https://tracker.example.com/ref.png');
    expect(ref).not.toMatch(/<img/i);
    expect(ref).toContain('(https://tracker.example.com/ref.png)');
    const raw = html('<img src="https://tracker.example.com/raw.png">');
    expect(raw).not.toMatch(/<img/i);
    const dataImg = html('![x](data:image/png;base64,AAAA)');
    expect(dataImg).not.toMatch(/<img|href=/i);
  });

  it('G3 a link whose text looks like another URL shows its real target', () => {
    const out = html('[https://bank.example/login](https://evil.example/phish)');
    expect(out).toContain('href="https://evil.example/phish"');
    expect(out).toContain('(https://evil.example/phish)');
  });

  it('G3 autolinks and reference links with javascript: are neutralised', () => {
    for (const md of ['<javascript:alert(1)>', '[x][j]\n\n[j]: javascript:alert(1)', '[x](  javascript:alert(1) )', '[x](&#106;avascript:alert(1))']) {
      const out = html(md);
      expect(out, md).not.toMatch(/href="\s*(&#106;|j)avascript/i);
      expect(out, md).not.toMatch(/<a [^>]*href="(?!https?:|mailto:)/i);
    }
  });

  it('G3 page text quoted by the user is rendered as text, never as markup', () => {
    // User turns and quoted selections are plain text; only model output goes through Markdown, and it is sanitized.
    const out = html('<iframe src="https://evil.example"></iframe><style>body{display:none}</style>');
    expect(out).not.toMatch(/<iframe|<style/i);
  });
});
