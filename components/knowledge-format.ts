/** The knowledge base in words, and the share form → `ShareRequest`. Pure functions, no React. */
import { type DocumentView, ShareRequest, type ShareSubject } from '@/lib/protocol';
import { revealInvisible } from './run-state';

export const ROLE_LABEL: Record<DocumentView['role'], string> = { owner: 'Owner', editor: 'Editor', viewer: 'Viewer' };

export const CONTENT_TYPE_LABEL: Record<DocumentView['contentType'], string> = {
  'text/plain': 'Text',
  'text/markdown': 'Markdown',
  'text/html': 'HTML',
  'application/pdf': 'PDF',
};

/** The URL when it is an http(s) link (anything else is shown as text, never made clickable). */
export function safeHttpUrl(url: string | undefined): string | undefined {
  if (!url || !URL.canParse(url)) return undefined;
  const u = new URL(url);
  return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
}

/** "12,345 characters · 8 passages". */
export function sizeText(doc: Pick<DocumentView, 'chars' | 'chunks'>): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return `${n(doc.chars)} character${doc.chars === 1 ? '' : 's'} · ${n(doc.chunks)} passage${doc.chunks === 1 ? '' : 's'}`;
}

/** Who owns it, as the list shows it: "You" for your own documents. */
export function ownerText(doc: Pick<DocumentView, 'role' | 'ownerName'>): string {
  if (doc.role === 'owner') return 'You';
  return doc.ownerName ? revealInvisible(doc.ownerName) : 'Someone else';
}

export function dateText(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric' });
}

export function canShare(doc: Pick<DocumentView, 'role'>): boolean {
  return doc.role === 'owner' || doc.role === 'editor';
}

export function canDelete(doc: Pick<DocumentView, 'role'>): boolean {
  return doc.role === 'owner';
}

export type ShareTarget = 'user' | 'group' | 'organization';

export interface ShareForm {
  target: ShareTarget;
  /** The e-mail address (target user) or group id (target group). */
  value: string;
  relation: 'viewer' | 'editor';
}

/** The form as a request, or what is wrong with it in words. */
export function shareRequestFromForm(form: ShareForm): { ok: true; request: ShareRequest } | { ok: false; message: string } {
  const value = form.value.trim();
  let subject: ShareSubject;
  if (form.target === 'user') {
    if (!value) return { ok: false, message: 'Enter the e-mail address of the person to share with.' };
    subject = { type: 'user', email: value.toLowerCase() };
  } else if (form.target === 'group') {
    if (!value) return { ok: false, message: 'Enter the id of the group to share with.' };
    subject = { type: 'group', id: value };
  } else {
    subject = { type: 'organization' };
  }
  const parsed = ShareRequest.safeParse({ subject, relation: form.relation });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') ?? '';
    if (where.endsWith('email')) return { ok: false, message: `“${value}” is not an e-mail address.` };
    if (where.endsWith('id')) return { ok: false, message: 'A group id is 1 to 100 characters.' };
    return { ok: false, message: issue?.message ?? 'The share is not valid.' };
  }
  return { ok: true, request: parsed.data };
}

/** What a share grants, in words: "Alice Example (alice@example.com) can view". */
export function shareText(share: { label: string; relation: 'owner' | 'viewer' | 'editor' }): string {
  const verb = share.relation === 'owner' ? 'owns it' : share.relation === 'editor' ? 'can edit' : 'can view';
  return `${revealInvisible(share.label)} ${verb}`;
}

/** A stable key of a share subject (React keys, test ids). */
export function subjectKey(subject: ShareSubject): string {
  switch (subject.type) {
    case 'user':
      return `user:${subject.email}`;
    case 'group':
      return `group:${subject.id}`;
    case 'organization':
      return 'organization';
  }
}
