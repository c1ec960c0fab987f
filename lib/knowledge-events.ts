/**
 * "The user's knowledge base changed" within this panel: a page was saved (page bar, context menu) or a file added or
 * a document deleted, through the API client. An open Knowledge view listens and reloads its list, whoever saved.
 */
const target = new EventTarget();
const EVENT = 'knowledge-changed';

export function knowledgeChanged(): void {
  target.dispatchEvent(new Event(EVENT));
}

/** Calls `listener` after every change; returns the unsubscribe function. */
export function onKnowledgeChanged(listener: () => void): () => void {
  target.addEventListener(EVENT, listener);
  return () => target.removeEventListener(EVENT, listener);
}
