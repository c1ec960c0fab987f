/**
 * What a request points back at in the conversation: a person named by first name ("email Bob …") whose address an
 * earlier message or tool result showed, and "the notes / the summary / that" meaning the latest answer. Only ever
 * read as data; nothing found here can pick a tool.
 */
import { EMAIL, messageText, type ModelMessage } from './conversation';

const REFERENCE = /\b(?:the|those|these|my|your)\s+((?:meeting\s+)?(?:notes|summary|minutes|agenda|list|overview|answer|plan|update)(?:\s+(?:from|of|for|about)\s+(?:today|yesterday|tomorrow|this\s+\w+|the\s+\w+|\w+day))?)\b/i;

/** Addresses seen anywhere in the conversation whose owner matches `name` (local part or a nearby display name). */
export function addressesFor(name: string, messages: ModelMessage[]): string[] {
  const wanted = name.trim().toLowerCase();
  if (!wanted) return [];
  const found = new Set<string>();
  for (const m of messages) {
    const text = messageText(m);
    for (const match of text.matchAll(new RegExp(EMAIL.source, 'gi'))) {
      const address = match[0].toLowerCase();
      const local = address.split('@')[0]!.split(/[._+-]/);
      const near = text.slice(Math.max(0, match.index! - 80), match.index! + address.length + 80).toLowerCase();
      const nearName = new RegExp(`(?:^|[^\\p{L}])${wanted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:$|[^\\p{L}])`, 'u').test(near);
      if (local.includes(wanted) || (nearName && local.some((p) => wanted.startsWith(p) || p.startsWith(wanted.split(' ')[0]!)))) found.add(address);
    }
  }
  return [...found];
}

/** "the notes from today" → "Notes from today": what the request calls the content it refers to. */
export function referencePhrase(text: string): string | undefined {
  const m = REFERENCE.exec(text);
  if (!m) return undefined;
  const phrase = m[1]!.replace(/\s+/g, ' ').trim();
  return phrase.charAt(0).toUpperCase() + phrase.slice(1);
}

/** The latest non-empty assistant answer before the current request, when the request refers to one. */
export function referencedAnswer(text: string, messages: ModelMessage[], userIndex: number): string | undefined {
  if (!referencePhrase(text) && !/\b(?:that|this|it)\b/i.test(text)) return undefined;
  for (let i = userIndex - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'assistant' && messageText(m).trim()) return messageText(m).trim();
  }
  return undefined;
}
