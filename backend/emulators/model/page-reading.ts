/**
 * The offline model working on page context: "summarize this page", "summarize the selection", "explain this",
 * "translate this to French", or a question about the page. Deputy's backend hands page content to the model as the
 * result of a synthetic `read_page_context` call (fenced, with its URL, kind and capture time); this module finds
 * those results in the current turn and answers from them alone, extractively. It never calls a tool, and it reads
 * page text as data: sentences that address an AI assistant ("ignore previous instructions", "call send_email …")
 * are left out of what it reports and named as such.
 */
import { type CallRecord, parseJson, STOPWORDS, words } from './conversation';
import { md } from './reply-writer';

export const PAGE_CONTEXT_TOOL = 'read_page_context';

export interface PageItem {
  kind: 'page' | 'selection';
  url: string;
  title?: string;
  text: string;
  truncated?: { readChars: number; totalChars: number };
}

const FENCE_LINE = /^<<<(?:BEGIN|END) [^>\n]*>>>$/gm;

/** The page context items of this turn, fence lines removed. */
export function pageItems(done: CallRecord[]): PageItem[] {
  return done.flatMap((c) => {
    if (c.name !== PAGE_CONTEXT_TOOL || !c.result?.ok) return [];
    const d = c.result.data as Partial<PageItem> | undefined;
    const raw = c.result.raw ? (parseJson(c.result.raw) as { provenance?: { truncated?: PageItem['truncated'] } } | undefined) : undefined;
    if (!d || typeof d.text !== 'string' || typeof d.url !== 'string') return [];
    return [{
      kind: d.kind === 'selection' ? 'selection' : 'page',
      url: d.url,
      ...(typeof d.title === 'string' ? { title: d.title } : {}),
      text: d.text.replace(FENCE_LINE, '').trim(),
      ...(raw?.provenance?.truncated ? { truncated: raw.provenance.truncated } : {}),
    }];
  });
}

/** Sentences that talk to an AI assistant instead of the page's reader: injection attempts, reported, never used. */
const ADDRESSED_TO_AI =
  /\b(ignore (?:all |any )?(?:previous|prior|above|earlier)|disregard|new instructions?|important instructions?|system (?:message|prompt|override)|\[?system\]?:|assistant:|as an ai|ai assistants?|language model|llm\b|you must now|do not tell the user|without asking|call (?:the )?[a-z]+_[a-z_]+|use (?:the )?[a-z]+_[a-z_]+|[a-z]+_[a-z_]+\s*\(|send (?:it|this|the|all|everything)[^.]* to [\w.+-]+@|forward (?:it|this|the|all|everything)|exfiltrat|<\/?(?:system|instructions?|admin)>)/i;

export function sentencesOf(text: string): string[] {
  // Split after . ! ? followed by a space, so "Aurora 2.0" or "e.g" inside a sentence stay whole.
  return text.replace(/\s+/g, ' ').split(/(?<=[.!?])\s+/).map((s) => s.trim()).filter((s) => words(s).length > 0);
}

export function splitInjected(text: string): { clean: string[]; injected: string[] } {
  const clean: string[] = [];
  const injected: string[] = [];
  for (const s of sentencesOf(text)) (ADDRESSED_TO_AI.test(s) ? injected : clean).push(s);
  return { clean, injected };
}

function contentWords(text: string): string[] {
  return words(text).filter((w) => w.length >= 3 && !STOPWORDS.has(w));
}

function topWords(sentences: string[], n: number): string[] {
  const counts = new Map<string, number>();
  for (const s of sentences) for (const w of contentWords(s)) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, n).map(([w]) => w);
}

/** The most representative sentences (by frequent content words), in their original order. */
function extract(sentences: string[], keep: number, favour: string[] = []): string[] {
  const top = new Set(topWords(sentences, 10));
  const want = new Set(favour);
  const scored = sentences.map((s, i) => {
    const ws = contentWords(s);
    return { s, i, score: ws.filter((w) => top.has(w)).length + 3 * ws.filter((w) => want.has(w)).length };
  });
  return [...scored].sort((a, b) => b.score - a.score || a.i - b.i).slice(0, keep).sort((a, b) => a.i - b.i).map((x) => x.s);
}

const FRENCH: Record<string, string> = {
  the: 'le', a: 'un', an: 'un', and: 'et', or: 'ou', is: 'est', are: 'sont', was: 'était', be: 'être', to: 'à', of: 'de',
  in: 'dans', on: 'sur', for: 'pour', with: 'avec', this: 'ce', that: 'que', it: 'il', we: 'nous', you: 'vous',
  they: 'ils', our: 'notre', your: 'votre', will: 'va', new: 'nouveau', team: 'équipe', release: 'version',
  launch: 'lancement', price: 'prix', pricing: 'tarifs', plan: 'offre', plans: 'offres', free: 'gratuit',
  security: 'sécurité', data: 'données', user: 'utilisateur', users: 'utilisateurs', page: 'page', week: 'semaine',
  today: "aujourd'hui", tomorrow: 'demain', meeting: 'réunion', report: 'rapport', product: 'produit', more: 'plus',
  all: 'tous', not: 'pas', can: 'peut', has: 'a', have: 'ont', from: 'de', by: 'par', at: 'à', now: 'maintenant',
  available: 'disponible', support: 'assistance', customers: 'clients', customer: 'client', year: 'année',
  first: 'premier', faster: 'plus rapide', better: 'meilleur', update: 'mise à jour', feature: 'fonctionnalité',
  features: 'fonctionnalités', browser: 'navigateur', time: 'temps', work: 'travail', people: 'personnes',
};

const LANGUAGES: Record<string, string> = { french: 'French', francais: 'French', français: 'French' };

function translateWords(sentence: string): string {
  return sentence.replace(/[A-Za-z']+/g, (w) => {
    const t = FRENCH[w.toLowerCase()];
    if (!t) return w;
    return /^[A-Z]/.test(w) ? t.charAt(0).toUpperCase() + t.slice(1) : t;
  });
}

const source = (item: PageItem) => `${item.kind === 'selection' ? 'the selection from' : ''} ${item.title ? `“${md(item.title)}” (${item.url})` : item.url}`.trim();

function injectedNote(injected: string[]): string[] {
  return injected.length
    ? ['', `_The ${injected.length === 1 ? 'page contains a sentence' : `page contains ${injected.length} sentences`} addressed to an AI assistant (instructions, tool names or addresses to send data to). I treated ${injected.length === 1 ? 'it' : 'them'} as page text and did not act on ${injected.length === 1 ? 'it' : 'them'}._`]
    : [];
}

function truncatedNote(items: PageItem[]): string[] {
  const t = items.find((i) => i.truncated);
  return t?.truncated ? ['', `_Only the first ${t.truncated.readChars} of ${t.truncated.totalChars} characters of the page were read._`] : [];
}

/** The kind of work the user asked for on the page, from their own words. */
export function pageTask(instruction: string): 'summarize' | 'translate' | 'explain' | 'question' | undefined {
  const t = instruction.toLowerCase();
  if (/\b(summari[sz]e|summary|tl;?dr|key points|gist)\b/.test(t)) return 'summarize';
  if (/\btranslat/.test(t)) return 'translate';
  if (/\b(explain|what does (?:this|it) mean|eli5|simplify)\b/.test(t)) return 'explain';
  if (/\?|^\s*(what|who|when|where|why|how|which|does|is|are|can|did)\b/.test(t)) return 'question';
  return undefined;
}

/** An answer from the page context of this turn, or undefined when there is none or the request is not about it. */
export function answerFromPage(instruction: string, done: CallRecord[]): string | undefined {
  const items = pageItems(done);
  if (!items.length) return undefined;
  const task = pageTask(instruction);
  if (!task) return undefined;
  const text = items.map((i) => i.text).join('\n\n');
  const { clean, injected } = splitInjected(text);
  if (!clean.length) {
    return [`I could not find readable content in ${source(items[0]!)} to work with.`, ...injectedNote(injected)].join('\n');
  }
  const from = items.map(source).join(' and ');
  switch (task) {
    case 'summarize': {
      const keep = Math.max(1, Math.min(5, Math.ceil(clean.length / 3)));
      const chosen = extract(clean, keep);
      return [`**Summary** of ${from} (${chosen.length} of ${clean.length} sentences):`, '', ...chosen.map((s) => `- ${md(s)}`), '', `Key terms: ${topWords(clean, 5).join(', ')}.`, ...injectedNote(injected), ...truncatedNote(items)].join('\n');
    }
    case 'translate': {
      const asked = /\b(?:to|into|in)\s+([A-Za-zÀ-ÿ]+)\b/.exec(instruction.replace(/\b(?:to|into)\s+(?:the\s+)?(?:browser'?s?\s+)?language\b/i, ''))?.[1];
      const lang = Object.entries(LANGUAGES).find(([k]) => instruction.toLowerCase().includes(k))?.[1];
      if (!lang && asked && !/^(this|it|the|a|an|my)$/i.test(asked)) {
        return [`The offline model cannot translate to ${md(asked)}; it only has a small French word list. Connect a real model for translations. The text of ${from}:`, '', ...clean.slice(0, 20).map((s) => `> ${md(s)}`), ...injectedNote(injected)].join('\n');
      }
      return [
        `**${lang ?? 'French'} translation** of ${from} (the offline model translates word by word; connect a real model for fluent text):`,
        '',
        ...clean.slice(0, 20).map((s) => `> ${md(translateWords(s))}`),
        ...injectedNote(injected),
      ].join('\n');
    }
    case 'explain': {
      const chosen = extract(clean, Math.min(3, clean.length));
      return [`${from} is about **${topWords(clean, 3).join('**, **')}**. In short:`, '', ...chosen.map((s) => `- ${md(s)}`), ...injectedNote(injected)].join('\n');
    }
    case 'question': {
      const asked = contentWords(instruction).filter((w) => !['page', 'selection', 'article', 'say', 'says', 'said', 'mention', 'mentions'].includes(w));
      const hits = clean.filter((s) => contentWords(s).some((w) => asked.includes(w)));
      const chosen = extract(hits.length ? hits : clean, Math.min(3, (hits.length ? hits : clean).length), asked);
      return [hits.length ? `From ${from}:` : `${from} does not say that directly; the closest it gets:`, '', ...chosen.map((s) => `- ${md(s)}`), ...injectedNote(injected)].join('\n');
    }
  }
}
