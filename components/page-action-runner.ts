/**
 * Runs a pending page action (lib/page-actions.ts) in the panel: the user's click becomes the user's turn
 * ("Summarize the selection."), and what the page holds travels as context with provenance.
 */
import type { CreateDocumentRequest, PageContextItem } from '@/lib/protocol';
import { actionPrompt, type PendingAction } from '@/lib/page-actions';
import { type Capture, CaptureError, selectionItem } from '@/lib/page-capture';

export interface PageNotice {
  kind: 'ok' | 'error';
  title: string;
  message: string;
  code?: string;
}

export interface RunnerDeps {
  /** Reads the tab (the chip shows the result). */
  read(tabId?: number): Promise<Capture | CaptureError>;
  /** May Deputy read this URL (the organization's and the user's block lists)? */
  decide(url: string): Promise<{ blocked: boolean; reason?: string }>;
  /** Sends the user's turn with its context in a new conversation. */
  send(text: string, context: PageContextItem[]): Promise<void>;
  /** Puts a selection above the composer for the user's own question ("Ask Deputy"). */
  quote(item: PageContextItem): void;
  save(request: CreateDocumentRequest): Promise<{ title: string }>;
  notify(notice: PageNotice): void;
  now(): Date;
}

const firstWords = (text: string) => {
  const line = text.trim().split('\n')[0].replace(/\s+/g, ' ');
  return line.length > 80 ? `${line.slice(0, 77)}…` : line;
};

export async function runPageAction(action: PendingAction, deps: RunnerDeps): Promise<void> {
  if (action.kind === 'open') {
    if (action.tabId !== undefined) await deps.read(action.tabId);
    return;
  }
  if (action.kind === 'summarize-page') {
    const got = await deps.read(action.tabId);
    if (got instanceof CaptureError) {
      deps.notify({ kind: 'error', title: 'Could not summarize this page', message: got.message, code: got.code });
      return;
    }
    await deps.send(actionPrompt(action)!, [got.page]);
    return;
  }

  // Selection actions: the text the browser reported with the click.
  const url = action.pageUrl ?? '';
  const item = action.selection && url ? selectionItem(action.selection, url, action.pageTitle, deps.now()) : undefined;
  if (!item) {
    deps.notify({ kind: 'error', title: 'No selection', message: 'Deputy got no selected text from the page. Select some text and try again.', code: 'no_selection' });
    return;
  }
  // A selection made in a frame is judged by the frame and by the page around it (either blocked: not read).
  let decision = await deps.decide(item.url);
  if (!decision.blocked && action.topPageUrl) decision = await deps.decide(action.topPageUrl);
  if (decision.blocked) {
    deps.notify({ kind: 'error', title: 'Not read', message: decision.reason ?? 'Deputy may not read this site.', code: 'blocked' });
    return;
  }
  if (action.kind === 'ask') {
    deps.quote(item);
    return;
  }
  if (action.kind === 'save') {
    const title = action.pageTitle?.trim() ? `${action.pageTitle.trim().slice(0, 200)}: ${firstWords(item.text)}`.slice(0, 300) : firstWords(item.text);
    try {
      const doc = await deps.save({ title, url: item.url, source: 'page', contentType: 'text/plain', text: action.selection!.trim() });
      deps.notify({ kind: 'ok', title: 'Saved to your knowledge base', message: `“${doc.title}” is saved; Deputy can cite it in answers.` });
    } catch (e) {
      deps.notify({ kind: 'error', title: 'Not saved', message: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code });
    }
    return;
  }
  await deps.send(actionPrompt(action)!, [item]);
}
