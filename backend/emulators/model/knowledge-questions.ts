/**
 * Questions about the user's own saved material ("what does my knowledge base say about X", "what did I save about
 * X", "according to my documents, …", "search my notes for X"): the offline model calls the offered knowledge-base
 * search tool with the topic, then answers only from the snippets it returned, naming their titles. With nothing
 * returned it says it found nothing it may show; it never guesses. Retrieved text is quoted as data, never obeyed.
 */
import type { CallRecord, ToolInfo } from './conversation';
import type { Plan } from './planner';

const SOURCES = String.raw`(?:knowledge[\s-]?base|kb|notes?|documents?|docs|files|saved (?:pages?|documents?|notes?)|library)`;

const PATTERNS: RegExp[] = [
  new RegExp(String.raw`\b(?:what|anything)\b.*?\b(?:does|do|is|in)\s+(?:my|our)\s+${SOURCES}\b.*?\b(?:say|says|have|has|know|contain|mention)s?\b\s*(?:about|on|regarding)?\s+(.+)`, 'i'),
  new RegExp(String.raw`\b(?:what|anything)\b.*?\b(?:did|have)\s+(?:i|we)\s+(?:save|saved|store|stored|keep|kept|note|noted|write|written)\b.*?\b(?:about|on|regarding)\s+(.+)`, 'i'),
  new RegExp(String.raw`\b(?:according to|based on|from|using|per)\s+(?:my|our)\s+${SOURCES}\b[\s,:-]*(.+)`, 'i'),
  new RegExp(String.raw`\b(?:search|look (?:through|in)|check|find (?:in|anything in)|query)\s+(?:my|our)\s+${SOURCES}\b\s*(?:for|about|on)?\s+(.+)`, 'i'),
  new RegExp(String.raw`\b(?:in|from)\s+(?:my|our)\s+${SOURCES}\b.*?\b(?:about|on|regarding)\s+(.+)`, 'i'),
];

/** The topic of a knowledge-base question, or undefined when the words are not one. */
export function knowledgeQuestionTopic(text: string): string | undefined {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  for (const re of PATTERNS) {
    const m = re.exec(oneLine);
    if (!m) continue;
    const topic = m[1]
      .replace(/[?.!]+$/, '')
      .replace(/^(?:the|a|an)\s+/i, '')
      .trim();
    if (topic.length >= 2) return topic.slice(0, 200);
  }
  return undefined;
}

interface KbResult {
  documentId?: string;
  title?: string;
  url?: string;
  snippet?: string;
}

/** The knowledge-base search tool among those offered: a read tool about a knowledge base with a `query` parameter. */
export function knowledgeTool(tools: ToolInfo[]): ToolInfo | undefined {
  return tools.find((t) => /knowledge/.test(t.name) && t.params.some((p) => p.name === 'query'));
}

export function planKnowledgeQuestion(instruction: string, tools: ToolInfo[], done: CallRecord[]): Plan | undefined {
  const tool = knowledgeTool(tools);
  if (!tool) return undefined;
  const topic = knowledgeQuestionTopic(instruction);
  if (!topic) return undefined;
  const call = done.find((c) => c.name === tool.name);
  if (!call) return { kind: 'call', calls: [{ name: tool.name, args: { query: topic } }] };
  if (!call.result) return undefined;
  return { kind: 'answer', text: answerFrom(topic, call) };
}

function answerFrom(topic: string, call: CallRecord): string {
  const r = call.result!;
  if (!r.ok) return `I couldn't search your knowledge base just now${r.error ? `: ${r.error}` : '.'} I won't guess without it.`;
  const data = r.data as { results?: KbResult[] } | undefined;
  const results = (Array.isArray(data?.results) ? data!.results : []).filter((x) => x && typeof x.title === 'string');
  if (!results.length) return `I found nothing about ${topic} in the documents you may view.`;
  const byDoc = new Map<string, { title: string; url?: string; snippets: string[] }>();
  for (const x of results) {
    const key = x.documentId ?? x.title!;
    const e = byDoc.get(key) ?? { title: x.title!, url: x.url, snippets: [] };
    if (x.snippet && e.snippets.length < 2) e.snippets.push(x.snippet);
    byDoc.set(key, e);
  }
  const docs = [...byDoc.values()].slice(0, 4);
  const lines = docs.map((d) => `- **${oneLine(d.title)}**: ${d.snippets.map((s) => excerpt(s, topic)).join(' … ') || '(no text)'}`);
  const titles = docs.map((d) => `“${oneLine(d.title)}”`);
  return [`Here is what your knowledge base says about ${topic}:`, '', ...lines, '', `Sources: ${titles.join(', ')}.`].join('\n');
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim().slice(0, 120);

/** Up to ~300 characters of a snippet, starting near the first sentence that mentions the topic. */
function excerpt(snippet: string, topic: string): string {
  const text = snippet.replace(/\s+/g, ' ').trim();
  const words = topic.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 3);
  const lower = text.toLowerCase();
  let start = 0;
  for (const w of words) {
    const at = lower.indexOf(w);
    if (at >= 0) {
      const sentenceStart = Math.max(text.lastIndexOf('. ', at) + 2, 0);
      start = sentenceStart <= at ? sentenceStart : at;
      break;
    }
  }
  const cut = text.slice(start, start + 300);
  return `${start > 0 ? '…' : ''}${cut}${start + 300 < text.length ? '…' : ''}`;
}
