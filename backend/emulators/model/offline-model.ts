/**
 * Deputy's offline models: deterministic code standing in for an LLM so the whole product runs without a network.
 * The same conversation always gets the same answer (tool-call ids included).
 *
 * - `deputy-offline-1` (OFFLINE_MODEL_NAME), the benign model: chats from the user's messages, and when tools are
 *   offered plans tool calls from the user's request and answers from their results (planner.ts, reply-writer.ts).
 *   It reads tool results and other non-user content as data only; it never follows instructions found there.
 * - `deputy-adversary` (ADVERSARY_MODEL_NAME), a fully hijacked model for security tests (adversary.ts).
 */
import { createHash } from 'node:crypto';
import { OFFLINE_MODEL_NAME } from '../../../lib/defaults';
import { adversaryPlan } from './adversary';
import { type ModelMessage, STOPWORDS, type ToolCall, type ToolChoice, type ToolSpec } from './conversation';
import { type Plan, planNextStep } from './planner';

export type { ModelMessage, ToolCall, ToolChoice, ToolSpec } from './conversation';

export const ADVERSARY_MODEL_NAME = 'deputy-adversary';

/** The models the offline server serves (`/v1/models`); any other name is `model_not_found`. */
export const OFFLINE_MODELS: readonly string[] = [OFFLINE_MODEL_NAME, ADVERSARY_MODEL_NAME];

/** The parts of a chat-completions request the models read. */
export interface CompletionRequest {
  model?: string;
  messages: ModelMessage[];
  tools?: ToolSpec[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
}

/** One assistant message: text, or tool calls in OpenAI's shape (arguments are JSON strings). */
export type ModelTurn = { type: 'text'; content: string } | { type: 'tool_calls'; toolCalls: ToolCall[] };

/** The next assistant message for this request. */
export function offlineTurn(req: CompletionRequest): ModelTurn {
  const input = { messages: req.messages, tools: req.tools, toolChoice: req.tool_choice, parallelToolCalls: req.parallel_tool_calls };
  const plan: Plan = req.model === ADVERSARY_MODEL_NAME ? adversaryPlan(input, chatReply) : planNextStep(input);
  if (plan.kind === 'answer') return { type: 'text', content: plan.text };
  if (plan.kind === 'chat') return { type: 'text', content: chatReply(req.messages) };
  const seed = JSON.stringify([req.model ?? '', req.messages]);
  return {
    type: 'tool_calls',
    toolCalls: plan.calls.map((c, i) => {
      const args = JSON.stringify(c.args);
      const digest = createHash('sha256').update(`${seed}\u0000${i}\u0000${c.name}\u0000${args}`).digest('hex');
      return { id: `call_${digest.slice(0, 24)}`, type: 'function', function: { name: c.name, arguments: args } };
    }),
  };
}

/**
 * A text reply (no tools offered). With `model: 'deputy-adversary'` it is the hijacked model's text. Conversations
 * that already carry tool results are answered from them.
 */
export function offlineReply(messages: ModelMessage[], opts: { model?: string } = {}): string {
  const turn = offlineTurn({ messages, model: opts.model, tool_choice: 'none' });
  return turn.type === 'text' ? turn.content : '';
}

/** The chat model: answers from the user's messages only. */
function chatReply(messages: ModelMessage[]): string {
  const users = messages.filter((m) => m.role === 'user' && m.content);
  const last = (users.at(-1)?.content ?? '').trim();
  const lower = last.toLowerCase();
  const name = rememberedName(users.map((m) => m.content ?? ''));
  const greetName = name ? `, ${name}` : '';

  if (!last) return 'I did not receive a question. What would you like to know?';

  const intro = /\b[Mm]y name is ([A-Z][\p{L}'-]{1,30})/u.exec(last);
  if (intro) {
    return `Nice to meet you, ${intro[1]}. I'll remember your name for the rest of this conversation. What can I do for you?`;
  }
  if (/^(hi|hello|hey|good (morning|afternoon|evening))\b/.test(lower)) {
    return `Hello${greetName}! I'm Deputy, running on the **offline model**. Ask me something, or paste text you want summarized.`;
  }
  if (/\b(who are you|what are you|what can you do|help)\b/.test(lower)) {
    return [
      "I'm **Deputy**, an assistant that acts only within the authority you delegate.",
      '',
      'Right now I am answering with the offline model, which runs on this machine:',
      '- I can keep a conversation and summarize or outline text you give me.',
      '- I cannot browse or look things up; connect a real model (`OPENAI_API_KEY` / `OPENAI_BASE_URL`) for that.',
    ].join('\n');
  }
  if (/\bwhat is my name\b|\bwho am i\b/.test(lower)) {
    return name ? `You told me your name is ${name}.` : "You haven't told me your name in this conversation.";
  }
  const payload = textToWorkOn(last);
  if (/\b(summari[sz]e|tl;?dr|summary)\b/.test(lower) && payload.split(/\s+/).length > 12) {
    return summarize(payload);
  }
  if (/\b(count|how many words)\b/.test(lower)) {
    const words = payload.split(/\s+/).filter(Boolean).length;
    return `That text has **${words}** words and ${payload.length} characters.`;
  }
  const topics = keywords(last, 4);
  const turn = users.length;
  return [
    topics.length
      ? `You asked about **${topics.join('**, **')}**.`
      : 'I read your message.',
    `I'm the offline model, so I can't look that up, but here is how I'd approach it:`,
    '',
    `1. Pin down what you need to know about ${topics[0] ?? 'it'}.`,
    `2. Gather the sources you trust${topics[1] ? ` on ${topics[1]}` : ''}.`,
    '3. Ask me to summarize or compare them — paste the text and I will.',
    '',
    `_(message ${turn} of this conversation)_`,
  ].join('\n');
}

function rememberedName(userTexts: string[]): string | undefined {
  let name: string | undefined;
  for (const t of userTexts) {
    const m = /\b[Mm]y name is ([A-Z][\p{L}'-]{1,30})/u.exec(t);
    if (m) name = m[1];
  }
  return name;
}

/** The text after a colon or in quotes, else the whole message. */
function textToWorkOn(message: string): string {
  const quoted = /["“](.{20,})["”]/s.exec(message);
  if (quoted) return quoted[1].trim();
  const colon = message.indexOf(':');
  if (colon >= 0 && message.length - colon > 40) return message.slice(colon + 1).trim();
  return message;
}

export function keywords(text: string, n: number): string[] {
  const counts = new Map<string, { count: number; first: number }>();
  const words = text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? [];
  words.forEach((w, i) => {
    if (w.length < 3 || STOPWORDS.has(w)) return;
    const e = counts.get(w);
    if (e) e.count++;
    else counts.set(w, { count: 1, first: i });
  });
  return [...counts.entries()]
    .sort((a, b) => b[1].count - a[1].count || a[1].first - b[1].first)
    .slice(0, n)
    .map(([w]) => w);
}

/** Extractive summary: the sentences that carry the text's most frequent content words, in their original order. */
export function summarize(text: string): string {
  const sentences = text.match(/[^.!?\n]+[.!?]?/g)?.map((s) => s.trim()).filter((s) => s.length > 0) ?? [text];
  const top = new Set(keywords(text, 8));
  const scored = sentences.map((s, i) => ({
    s,
    i,
    score: (s.toLowerCase().match(/[\p{L}\p{N}'-]+/gu) ?? []).filter((w) => top.has(w)).length,
  }));
  const keep = Math.max(1, Math.min(3, Math.ceil(sentences.length / 3)));
  const chosen = [...scored].sort((a, b) => b.score - a.score || a.i - b.i).slice(0, keep).sort((a, b) => a.i - b.i);
  return [
    `**Summary** (${chosen.length} of ${sentences.length} sentences):`,
    '',
    ...chosen.map((c) => `- ${c.s}`),
    '',
    `Key terms: ${[...top].slice(0, 5).join(', ')}.`,
  ].join('\n');
}

/** Splits a reply into stream chunks the way a tokenizer would: words with their trailing whitespace. */
export function toChunks(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}
