/**
 * The knowledge base in the panel: the document list (owner, role, size, source link, who may share/delete), the
 * share form and the grants list, the sources under answers (from message.completed and from stored messages), and
 * the API client's document and share calls (paths, bodies, problem JSON).
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import { CitationList } from '../../components/Citations';
import { Header } from '../../components/Header';
import { FolderEntries } from '../../components/KnowledgeFolders';
import { DocumentEntries, KnowledgeToggle, uploadFiles, type UploadStatus, UploadStatuses } from '../../components/KnowledgeView';
import { canDelete, canShare, ownerText, safeHttpUrl, shareRequestFromForm, sizeText } from '../../components/knowledge-format';
import { MessageList } from '../../components/MessageList';
import { applyRunEvents, buildTimeline, createRun } from '../../components/run-state';
import { ShareEntries } from '../../components/ShareDialog';
import { ApiError, createApiClient } from '../../lib/api-client';
import { onKnowledgeChanged } from '../../lib/knowledge-events';
import type { FileLike } from '../../lib/knowledge-files';
import type { Citation, DocumentView, RunEvent } from '../../lib/protocol';

const docId = '9a4c1a0e-8f7e-4c1b-9d2a-3e5f6a7b8c90';
const runId = '6f1c1f8e-3f3b-4d7e-9a55-0a4b7f1f2a01';
const threadId = '0d1f7a3c-5b2e-4c1a-8f3d-2e6b9c7a4d10';
const messageId = '3b0e9a52-6a51-4c43-9d43-5f4f2f0a7c11';

const doc = (over: Partial<DocumentView> = {}): DocumentView => ({
  id: docId,
  title: 'Orbit launch plan',
  url: 'http://127.0.0.1:4321/orbit.html',
  source: 'page',
  contentType: 'text/html',
  chunks: 3,
  chars: 4210,
  createdAt: '2026-11-30T10:00:00.000Z',
  ownerName: 'Alice Example',
  role: 'owner',
  ...over,
});

const noop = () => {};
const entries = (documents: DocumentView[], extra: Partial<Parameters<typeof DocumentEntries>[0]> = {}) =>
  renderToStaticMarkup(
    <DocumentEntries documents={documents} onShare={noop} onDelete={noop} onConfirmDelete={noop} onCancelDelete={noop} {...extra} />,
  );

describe('DocumentEntries', () => {
  it('shows title, the source link with its target, owner, role and size; owners can share and delete', () => {
    const html = entries([doc()]);
    expect(html).toContain(`data-document-id="${docId}" data-role="owner"`);
    expect(html).toContain('>Orbit launch plan<');
    expect(html).toMatch(/<a class="document-url" href="http:\/\/127.0.0.1:4321\/orbit.html" target="_blank" rel="noopener noreferrer"[^>]*>http:\/\/127.0.0.1:4321\/orbit.html<\/a>/);
    expect(html).toContain('Owner: You');
    expect(html).toMatch(/data-testid="document-role">Owner</);
    expect(html).toContain('4,210 characters · 3 passages');
    expect(html).toContain('Saved page');
    expect(html).toContain('data-testid="document-share"');
    expect(html).toContain('data-testid="document-delete"');
  });

  it('a viewer sees the owner by name and can neither share nor delete; an editor can share but not delete', () => {
    const viewer = entries([doc({ role: 'viewer', source: 'upload', contentType: 'application/pdf', url: undefined })]);
    expect(viewer).toContain('Owner: Alice Example');
    expect(viewer).toMatch(/data-testid="document-role">Viewer</);
    expect(viewer).toContain('PDF file');
    expect(viewer).not.toContain('document-share');
    expect(viewer).not.toContain('document-delete');
    expect(viewer).not.toContain('document-url');
    const editor = entries([doc({ role: 'editor' })]);
    expect(editor).toContain('document-share');
    expect(editor).not.toContain('document-delete');
  });

  it('asks before deleting, and disables the buttons while it deletes', () => {
    const html = entries([doc()], { confirming: docId, busy: docId });
    expect(html).toContain('Delete it for everyone it is shared with?');
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*data-testid="document-delete-confirm">Deleting…</);
  });

  it('never makes a non-http link clickable, and shows hostile titles as text', () => {
    const html = entries([doc({ url: 'javascript:alert(1)', title: '<img src=x onerror=alert(1)>\u202E', ownerName: '<b>x</b>', role: 'viewer' })]);
    expect(html).not.toContain('href="javascript');
    expect(html).toContain('<span class="document-url" data-testid="document-url">javascript:alert(1)</span>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;⟨U+202E⟩');
  });

  it('has an empty state', () => {
    expect(entries([])).toContain('data-testid="documents-empty"');
  });
});

describe('KnowledgeToggle', () => {
  it('sits in the header before "Sign out" and says whether the drawer is open', () => {
    const html = renderToStaticMarkup(
      <Header
        user={{ sub: 'auth0|alice', name: 'Alice Anders', email: 'alice@example.com' }}
        model={{ name: 'deputy-offline-1', offline: true }}
        signingOut={false}
        onSignOut={noop}
        actions={<KnowledgeToggle open onToggle={noop} />}
      />,
    );
    expect(html).toMatch(/<div class="header-actions"><button[^>]*aria-expanded="true" aria-controls="knowledge-drawer" data-testid="knowledge-toggle">Knowledge<\/button><button[^>]*data-testid="sign-out">Sign out</);
    expect(renderToStaticMarkup(<KnowledgeToggle open={false} onToggle={noop} />)).toContain('aria-expanded="false"');
  });
});

describe('FolderEntries', () => {
  const folderId = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
  const folders = [
    { id: folderId, name: 'Launch', createdAt: '2026-11-30T10:00:00.000Z', role: 'owner' as const },
    { id: '8c9e6679-7425-40de-944b-e07fc1f90ae8', name: 'Shared <b>notes</b>', parentId: folderId, createdAt: '2026-11-30T10:00:00.000Z', role: 'viewer' as const },
  ];

  it('lists folders with the role, the number of listed documents in each, the parent; only owners and editors can share', () => {
    const html = renderToStaticMarkup(<FolderEntries folders={folders} documents={[{ folderId }, { folderId }, {}]} onShare={noop} />);
    expect(html.match(/data-testid="folder"/g)).toHaveLength(2);
    expect(html).toContain('>Launch<');
    expect(html).toContain('2 documents');
    expect(html).toContain('0 documents · in Launch');
    expect(html).toContain('Shared &lt;b&gt;notes&lt;/b&gt;');
    expect(html.match(/data-testid="folder-share"/g)).toHaveLength(1);
    expect(renderToStaticMarkup(<FolderEntries folders={[]} documents={[]} onShare={noop} />)).toContain('Sharing a folder shares everything in it.');
  });

  it('a document in a folder says which one', () => {
    const html = entries([doc({ folderId })], { folders });
    expect(html).toContain('<span data-testid="document-folder">In Launch</span>');
  });
});

describe('knowledge words', () => {
  it('roles and actions', () => {
    expect([canShare({ role: 'owner' }), canShare({ role: 'editor' }), canShare({ role: 'viewer' })]).toEqual([true, true, false]);
    expect([canDelete({ role: 'owner' }), canDelete({ role: 'editor' }), canDelete({ role: 'viewer' })]).toEqual([true, false, false]);
    expect(ownerText({ role: 'viewer' })).toBe('Someone else');
    expect(sizeText({ chars: 1, chunks: 1 })).toBe('1 character · 1 passage');
    expect(safeHttpUrl('https://example.com/a?b=1')).toBe('https://example.com/a?b=1');
    expect(safeHttpUrl('data:text/html,hi')).toBeUndefined();
    expect(safeHttpUrl('not a url')).toBeUndefined();
  });
});

describe('shareRequestFromForm', () => {
  it('builds user, group and organisation grants', () => {
    expect(shareRequestFromForm({ target: 'user', value: '  Bob@Example.com ', relation: 'viewer' })).toEqual({
      ok: true,
      request: { subject: { type: 'user', email: 'bob@example.com' }, relation: 'viewer' },
    });
    expect(shareRequestFromForm({ target: 'group', value: 'engineering', relation: 'editor' })).toEqual({
      ok: true,
      request: { subject: { type: 'group', id: 'engineering' }, relation: 'editor' },
    });
    expect(shareRequestFromForm({ target: 'organization', value: 'ignored', relation: 'viewer' })).toEqual({
      ok: true,
      request: { subject: { type: 'organization' }, relation: 'viewer' },
    });
  });

  it('says what is wrong with the form', () => {
    expect(shareRequestFromForm({ target: 'user', value: '', relation: 'viewer' })).toEqual({ ok: false, message: 'Enter the e-mail address of the person to share with.' });
    expect(shareRequestFromForm({ target: 'user', value: 'bob', relation: 'viewer' })).toEqual({ ok: false, message: '“bob” is not an e-mail address.' });
    expect(shareRequestFromForm({ target: 'group', value: ' ', relation: 'viewer' })).toEqual({ ok: false, message: 'Enter the id of the group to share with.' });
    expect(shareRequestFromForm({ target: 'group', value: 'g'.repeat(101), relation: 'viewer' })).toEqual({ ok: false, message: 'A group id is 1 to 100 characters.' });
  });
});

describe('ShareEntries', () => {
  const shares = [
    { subject: { type: 'user' as const, email: 'alice@example.com' }, relation: 'owner' as const, label: 'Alice Example (alice@example.com)' },
    { subject: { type: 'user' as const, email: 'bob@example.com' }, relation: 'viewer' as const, label: 'Bob Example (bob@example.com)' },
    { subject: { type: 'organization' as const }, relation: 'editor' as const, label: 'Everyone at Example Corp' },
  ];

  it('lists every grant in words; every one but the owner can be removed', () => {
    const html = renderToStaticMarkup(<ShareEntries shares={shares} onRemove={noop} />);
    expect(html.match(/data-testid="share-entry"/g)).toHaveLength(3);
    expect(html).toContain('Alice Example (alice@example.com) owns it');
    expect(html).toContain('Bob Example (bob@example.com) can view');
    expect(html).toContain('Everyone at Example Corp can edit');
    expect(html.match(/data-testid="share-remove"/g)).toHaveLength(2);
    expect(html).toContain('data-subject="user:bob@example.com" data-relation="viewer"');
    expect(html).toContain('aria-label="Remove access for Bob Example (bob@example.com)"');
  });

  it('shows which one is being removed, and an empty state', () => {
    const html = renderToStaticMarkup(<ShareEntries shares={shares} removing="user:bob@example.com#viewer" onRemove={noop} />);
    expect(html).toContain('Removing…');
    expect(html.match(/disabled=""/g)).toHaveLength(2);
    expect(renderToStaticMarkup(<ShareEntries shares={[]} onRemove={noop} />)).toContain('Not shared with anyone yet.');
  });
});

describe('uploadFiles', () => {
  const file = (name: string, text: string): FileLike => {
    const bytes = new TextEncoder().encode(text);
    return { name, type: '', size: bytes.byteLength, arrayBuffer: async () => bytes.buffer };
  };

  it('uploads each file, reports each one, and a refused file or a server error does not stop the others', async () => {
    const createDocument = vi.fn(async (req: { title: string }) => {
      if (req.title === 'secret') throw new ApiError(413, 'document_too_large', 'The document has more than 5000 chunks.');
      return doc({ title: req.title, source: 'upload', contentType: 'text/markdown', chars: 11, chunks: 1 });
    });
    const statuses: UploadStatus[] = [];
    const added = await uploadFiles({ createDocument }, [file('a.md', '# hello all'), file('b.png', 'x'), file('secret.md', 'text')], (s) => statuses.push(s));
    expect(added.map((d) => d.title)).toEqual(['a']);
    expect(createDocument).toHaveBeenCalledTimes(2);
    const final = statuses.filter((s) => s.state === 'added' || s.state === 'failed').map((s) => `${s.state}: ${s.message}`);
    expect(final).toEqual([
      'added: “a” (11 characters · 1 passage)',
      'failed: “b.png” cannot be added: only text (.txt), Markdown (.md), HTML (.html) and PDF (.pdf) files can.',
      'failed: “secret.md” was not added: The document has more than 5000 chunks.',
    ]);
    const html = renderToStaticMarkup(<UploadStatuses uploads={statuses.slice(-1)} />);
    expect(html).toContain('data-state="failed"');
    expect(html).not.toContain('upload-state');
  });
});

describe('citations', () => {
  const citations: Citation[] = [
    { documentId: docId, title: 'Orbit launch plan', url: 'http://127.0.0.1:4321/orbit.html', snippet: 'The Orbit launch is   on\nMarch 3.' },
    { documentId: '11111111-2222-4333-8444-555555555555', title: 'Notes', snippet: 'x'.repeat(400) },
    { documentId: '11111111-2222-4333-8444-666666666666', title: '<script>x</script>', url: 'javascript:alert(1)', snippet: '' },
  ];

  it('lists title, the link with its target visible, and the snippet; non-http URLs stay text', () => {
    const html = renderToStaticMarkup(<CitationList citations={citations} />);
    expect(html).toContain('aria-label="Sources"');
    expect(html.match(/data-testid="citation"/g)).toHaveLength(3);
    expect(html).toContain(
      '<a class="citation-title" href="http://127.0.0.1:4321/orbit.html" target="_blank" rel="noopener noreferrer" data-testid="citation-title" title="http://127.0.0.1:4321/orbit.html">Orbit launch plan</a>',
    );
    expect(html).toContain('<div class="citation-url" data-testid="citation-url">http://127.0.0.1:4321/orbit.html</div>');
    expect(html).toContain('The Orbit launch is on March 3.');
    expect(html).toContain(`${'x'.repeat(279)}…`);
    expect(html).not.toContain('href="javascript');
    expect(html).not.toContain('<script>');
    expect(html).toContain('javascript:alert(1)');
    expect(renderToStaticMarkup(<CitationList citations={[]} />)).toBe('');
  });

  const completed = (withCitations: boolean): RunEvent => ({
    type: 'message.completed',
    runId,
    message: {
      id: messageId,
      threadId,
      role: 'assistant',
      content: 'The launch is on March 3.',
      createdAt: '2026-11-30T10:00:01.000Z',
      ...(withCitations ? { citations: citations.slice(0, 1) } : {}),
    },
  });

  it('a live answer shows its sources once it completed', () => {
    const run = applyRunEvents(createRun({ runId, threadId, startedAt: '2026-11-30T10:00:00.000Z' }), [
      { seq: 1, event: { type: 'message.delta', runId, messageId, delta: 'The launch' } },
      { seq: 2, event: completed(true) },
      { seq: 3, event: { type: 'run.completed', runId } },
    ]);
    expect(run.parts).toEqual([{ kind: 'message', id: messageId, content: 'The launch is on March 3.', streaming: false, citations: citations.slice(0, 1) }]);
    const html = renderToStaticMarkup(<MessageList items={buildTimeline([], [run])} emptyHint="" />);
    expect(html).toContain('data-testid="citations"');
    expect(html).toContain('Orbit launch plan');
  });

  it('an answer without sources shows none (nothing hints at documents the user may not see)', () => {
    const run = applyRunEvents(createRun({ runId, threadId, startedAt: '2026-11-30T10:00:00.000Z' }), [{ seq: 1, event: completed(false) }]);
    expect(run.parts[0]).not.toHaveProperty('citations');
    const html = renderToStaticMarkup(<MessageList items={buildTimeline([], [run])} emptyHint="" />);
    expect(html).not.toContain('citation');
    expect(html).not.toContain('Sources');
  });

  it('stored answers (local history, or fetched from the server) keep their sources; older rows without the field still render', () => {
    const items = buildTimeline(
      [
        { id: 'u1', role: 'user', content: 'when is the launch?', createdAt: '2026-11-30T10:00:00.000Z' },
        { id: 'a1', role: 'assistant', content: 'March 3.', createdAt: '2026-11-30T10:00:01.000Z', citations: citations.slice(0, 1) },
        { id: 'a0', role: 'assistant', content: 'An older answer.', createdAt: '2026-11-30T09:00:00.000Z' },
      ],
      [],
    );
    expect(items.find((i) => i.id === 'a1')).toMatchObject({ kind: 'assistant', citations: citations.slice(0, 1) });
    expect(items.find((i) => i.id === 'a0')).not.toHaveProperty('citations');
    const html = renderToStaticMarkup(<MessageList items={items} emptyHint="" />);
    expect(html.match(/data-testid="citations"/g)).toHaveLength(1);
  });
});

describe('api client: documents and shares', () => {
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const problem = (status: number, code: string, detail: string) =>
    new Response(JSON.stringify({ type: 'about:blank', title: 'Error', status, code, detail }), {
      status,
      headers: { 'Content-Type': 'application/problem+json' },
    });

  function client(handler: (url: string, init: RequestInit) => Response) {
    const calls: { url: string; method: string; body?: unknown; auth: string | null }[] = [];
    const fetch = vi.fn(async (url: string, init: RequestInit = {}) => {
      calls.push({
        url,
        method: init.method ?? 'GET',
        body: init.body ? JSON.parse(String(init.body)) : undefined,
        auth: new Headers(init.headers).get('Authorization'),
      });
      return handler(url, init);
    });
    return { api: createApiClient({ baseUrl: 'http://api.test/', getAccessToken: async () => 'tok', fetch }), calls };
  }

  it('creates, lists and deletes documents with the bearer token', async () => {
    const { api, calls } = client((url, init) =>
      init.method === 'POST' ? json(doc({ source: 'upload', contentType: 'text/markdown', url: undefined }), 201) : init.method === 'DELETE' ? new Response(null, { status: 204 }) : json({ documents: [doc()] }),
    );
    const created = await api.createDocument({ title: 'notes', source: 'upload', contentType: 'text/markdown', text: '# hi' });
    expect(created.id).toBe(docId);
    expect((await api.listDocuments()).documents).toHaveLength(1);
    await api.deleteDocument(docId);
    expect(calls).toEqual([
      { url: 'http://api.test/v1/documents', method: 'POST', body: { title: 'notes', source: 'upload', contentType: 'text/markdown', text: '# hi' }, auth: 'Bearer tok' },
      { url: 'http://api.test/v1/documents', method: 'GET', body: undefined, auth: 'Bearer tok' },
      { url: `http://api.test/v1/documents/${docId}`, method: 'DELETE', body: undefined, auth: 'Bearer tok' },
    ]);
  });

  it('tells an open Knowledge view when a save or a delete went through (not when it failed)', async () => {
    let changes = 0;
    const off = onKnowledgeChanged(() => changes++);
    try {
      const ok = client((_url, init) => (init.method === 'POST' ? json(doc(), 201) : new Response(null, { status: 204 })));
      await ok.api.createDocument({ title: 'p', url: 'https://example.com/', source: 'page', contentType: 'text/plain', text: 'x' });
      await ok.api.deleteDocument(docId);
      expect(changes).toBe(2);
      const failing = client(() => problem(404, 'not_found', 'No such document.'));
      await failing.api.deleteDocument(docId).catch(() => {});
      expect(changes).toBe(2);
    } finally {
      off();
    }
  });

  it('refuses to send a request the server would refuse (PDF without data)', async () => {
    const { api, calls } = client(() => json({}));
    await expect(api.createDocument({ title: 'x', source: 'upload', contentType: 'application/pdf', text: 'x' })).rejects.toThrow(/dataBase64/);
    expect(calls).toHaveLength(0);
  });

  it('grants, lists and revokes shares (revoke sends the same body as the grant)', async () => {
    const grant = { subject: { type: 'user' as const, email: 'bob@example.com' }, relation: 'viewer' as const };
    const { api, calls } = client((_url, init) =>
      (init.method ?? 'GET') === 'GET' ? json({ shares: [{ ...grant, label: 'Bob Example (bob@example.com)' }] }) : init.method === 'POST' ? json({ ...grant, label: 'Bob' }, 201) : new Response(null, { status: 204 }),
    );
    await api.share(docId, grant);
    expect((await api.listShares(docId)).shares[0]!.label).toBe('Bob Example (bob@example.com)');
    await api.revokeShare(docId, grant);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      `POST http://api.test/v1/documents/${docId}/shares`,
      `GET http://api.test/v1/documents/${docId}/shares`,
      `DELETE http://api.test/v1/documents/${docId}/shares`,
    ]);
    expect(calls[0]!.body).toEqual(grant);
    expect(calls[2]!.body).toEqual(grant);
  });

  it('folders: list, create, and their shares on /v1/folders/:id/shares', async () => {
    const folder = { id: docId, name: 'Launch', createdAt: '2026-11-30T10:00:00.000Z', role: 'owner' };
    const { api, calls } = client((url, init) =>
      url.endsWith('/shares') ? ((init.method ?? 'GET') === 'GET' ? json({ shares: [] }) : new Response(null, { status: 204 })) : init.method === 'POST' ? json(folder, 201) : json({ folders: [folder] }),
    );
    expect((await api.createFolder({ name: ' Launch ' })).name).toBe('Launch');
    expect((await api.listFolders()).folders).toHaveLength(1);
    await api.listShares(docId, 'folder');
    await api.share(docId, { subject: { type: 'group', id: 'engineering' }, relation: 'editor' }, 'folder');
    await api.revokeShare(docId, { subject: { type: 'group', id: 'engineering' }, relation: 'editor' }, 'folder');
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'POST http://api.test/v1/folders',
      'GET http://api.test/v1/folders',
      `GET http://api.test/v1/folders/${docId}/shares`,
      `POST http://api.test/v1/folders/${docId}/shares`,
      `DELETE http://api.test/v1/folders/${docId}/shares`,
    ]);
    expect(calls[0]!.body).toEqual({ name: 'Launch' });
  });

  it('turns problem JSON into ApiErrors carrying the server’s detail', async () => {
    const { api } = client(() => problem(403, 'forbidden', 'Only the owner can share this document.'));
    await expect(api.share(docId, { subject: { type: 'organization' }, relation: 'editor' })).rejects.toMatchObject({
      status: 403,
      code: 'forbidden',
      message: 'Only the owner can share this document.',
    });
    const notFound = client(() => problem(404, 'not_found', 'No such document.'));
    await expect(notFound.api.deleteDocument(docId)).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('says so when the server answers in an unexpected shape', async () => {
    const { api } = client(() => json({ docs: [] }));
    await expect(api.listDocuments()).rejects.toMatchObject({ code: 'invalid_response', message: 'The server sent your documents in an unexpected shape.' });
  });
});
