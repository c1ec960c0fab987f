import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient } from '@/lib/api-client';
import { onKnowledgeChanged } from '@/lib/knowledge-events';
import { ACCEPTED_FILE_TYPES, documentRequestFromFile, type FileLike, FileRejectedError } from '@/lib/knowledge-files';
import type { CreateDocumentRequest, DocumentView, FolderView } from '@/lib/protocol';
import { ErrorNotice } from './ErrorNotice';
import { describeError, type UiError } from './errors';
import { canDelete, canShare, CONTENT_TYPE_LABEL, dateText, ownerText, ROLE_LABEL, safeHttpUrl, sizeText } from './knowledge-format';
import { revealInvisible } from './run-state';
import { FolderEntries, NewFolderForm } from './KnowledgeFolders';
import { ShareDialog, type ShareTargetObject } from './ShareDialog';
import './knowledge.css';

export type KnowledgeApi = Pick<
  ApiClient,
  'listDocuments' | 'createDocument' | 'deleteDocument' | 'listShares' | 'share' | 'revokeShare' | 'listGroups' | 'listFolders' | 'createFolder'
>;

/** One file's upload, as the list of recent uploads shows it. */
export interface UploadStatus {
  key: string;
  name: string;
  state: 'reading' | 'uploading' | 'added' | 'failed';
  message?: string;
}

/** Reads and uploads files one after another; reports each file's progress. A file that fails does not stop the others. */
export async function uploadFiles(
  api: Pick<ApiClient, 'createDocument'>,
  files: FileLike[],
  onStatus: (status: UploadStatus) => void,
  read: (file: FileLike, options: { folderId?: string }) => Promise<CreateDocumentRequest> = documentRequestFromFile,
  options: { folderId?: string } = {},
): Promise<DocumentView[]> {
  const added: DocumentView[] = [];
  for (const [i, file] of files.entries()) {
    const key = `${Date.now()}-${i}-${file.name}`;
    onStatus({ key, name: file.name, state: 'reading' });
    let request: CreateDocumentRequest;
    try {
      request = await read(file, options);
    } catch (e) {
      const message = e instanceof FileRejectedError ? e.message : `“${file.name}” could not be read: ${e instanceof Error ? e.message : String(e)}`;
      onStatus({ key, name: file.name, state: 'failed', message });
      continue;
    }
    onStatus({ key, name: file.name, state: 'uploading' });
    try {
      const doc = await api.createDocument(request);
      added.push(doc);
      onStatus({ key, name: file.name, state: 'added', message: `“${doc.title}” (${sizeText(doc)})` });
    } catch (e) {
      const { message } = describeError(e, 'Adding the file');
      onStatus({ key, name: file.name, state: 'failed', message: `“${file.name}” was not added: ${message}` });
    }
  }
  return added;
}

/** The documents the user may view: title and source link, owner, the user's role, size; share and delete actions. */
export function DocumentEntries({
  documents,
  folders = [],
  busy,
  confirming,
  onShare,
  onDelete,
  onConfirmDelete,
  onCancelDelete,
}: {
  documents: DocumentView[];
  /** Folders the user may view (to name a document's folder). */
  folders?: Pick<FolderView, 'id' | 'name'>[];
  /** The document being deleted right now. */
  busy?: string | null;
  /** The document whose deletion waits for a second click. */
  confirming?: string | null;
  onShare: (doc: DocumentView) => void;
  onDelete: (doc: DocumentView) => void;
  onConfirmDelete: (doc: DocumentView) => void;
  onCancelDelete: () => void;
}) {
  if (documents.length === 0) {
    return (
      <p className="knowledge-empty" data-testid="documents-empty">
        No documents yet. Save a page or add files; Deputy answers from them and cites them. Documents others share with you appear here too.
      </p>
    );
  }
  return (
    <ul className="document-list" data-testid="document-list">
      {documents.map((d) => {
        const href = safeHttpUrl(d.url);
        const title = revealInvisible(d.title) || 'Untitled';
        return (
          <li key={d.id} className="document" data-testid="document" data-document-id={d.id} data-role={d.role}>
            <div className="document-head">
              <span className="document-title" data-testid="document-title">
                {title}
              </span>
              <span className={`document-role document-role-${d.role}`} data-testid="document-role">
                {ROLE_LABEL[d.role]}
              </span>
            </div>
            {d.url &&
              (href ? (
                <a className="document-url" href={href} target="_blank" rel="noopener noreferrer" data-testid="document-url">
                  {revealInvisible(href)}
                </a>
              ) : (
                <span className="document-url" data-testid="document-url">
                  {revealInvisible(d.url)}
                </span>
              ))}
            <p className="document-meta">
              <span data-testid="document-owner">Owner: {ownerText(d)}</span>
              <span>
                {d.source === 'page' ? 'Saved page' : `${CONTENT_TYPE_LABEL[d.contentType]} file`} · {dateText(d.createdAt)}
              </span>
              <span data-testid="document-size">{sizeText(d)}</span>
              {d.folderId && (
                <span data-testid="document-folder">In {revealInvisible(folders.find((f) => f.id === d.folderId)?.name ?? 'a folder')}</span>
              )}
            </p>
            {confirming === d.id ? (
              <div className="document-actions document-confirm" role="group" aria-label="Confirm deletion">
                <span className="document-confirm-text">Delete it for everyone it is shared with?</span>
                <button type="button" className="btn btn-small btn-danger" disabled={Boolean(busy)} onClick={() => onConfirmDelete(d)} data-testid="document-delete-confirm">
                  {busy === d.id ? 'Deleting…' : 'Delete'}
                </button>
                <button type="button" className="btn btn-small btn-ghost" disabled={Boolean(busy)} onClick={onCancelDelete} data-testid="document-delete-cancel">
                  Keep
                </button>
              </div>
            ) : (
              (canShare(d) || canDelete(d)) && (
                <div className="document-actions">
                  {canShare(d) && (
                    <button type="button" className="btn btn-small" onClick={() => onShare(d)} data-testid="document-share">
                      Share
                    </button>
                  )}
                  {canDelete(d) && (
                    <button type="button" className="btn btn-small btn-ghost" disabled={Boolean(busy)} onClick={() => onDelete(d)} data-testid="document-delete">
                      Delete
                    </button>
                  )}
                </div>
              )
            )}
          </li>
        );
      })}
    </ul>
  );
}

export function UploadStatuses({ uploads }: { uploads: UploadStatus[] }) {
  if (uploads.length === 0) return null;
  // A failure's message says what went wrong with which file; the others name the file after the state.
  const text: Record<UploadStatus['state'], string> = { reading: 'Reading', uploading: 'Adding', added: 'Added', failed: '' };
  return (
    <ul className="upload-list" aria-live="polite" data-testid="upload-list">
      {uploads.map((u) => (
        <li key={u.key} className={`upload upload-${u.state}`} data-testid="upload" data-state={u.state}>
          {text[u.state] && <span className="upload-state">{text[u.state]} </span>}
          <span className="upload-message">{u.message ?? `“${revealInvisible(u.name)}”…`}</span>
        </li>
      ))}
    </ul>
  );
}

/** Opens and closes the Knowledge drawer (in the header: the toolbar is full). */
export function KnowledgeToggle({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  return (
    <button
      type="button"
      className={`btn btn-small btn-ghost${open ? ' is-active' : ''}`}
      aria-expanded={open}
      aria-controls="knowledge-drawer"
      onClick={onToggle}
      data-testid="knowledge-toggle"
    >
      Knowledge
    </button>
  );
}

/** The Knowledge drawer: folders and documents the user may view, file upload (into a folder), sharing, deletion. */
export function KnowledgeView({ api }: { api: KnowledgeApi }) {
  const [documents, setDocuments] = useState<DocumentView[] | undefined>(undefined);
  const [folders, setFolders] = useState<FolderView[]>([]);
  const [error, setError] = useState<UiError | null>(null);
  const [uploads, setUploads] = useState<UploadStatus[]>([]);
  const [uploading, setUploading] = useState(false);
  /** Where "Add files" puts them ('' = no folder). */
  const [uploadFolder, setUploadFolder] = useState('');
  const [sharing, setSharing] = useState<ShareTargetObject | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  /** A list request is in flight (tests and the demo wait for it to settle). */
  const [loading, setLoading] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => void (mounted.current = false);
  }, []);

  const load = useCallback(async () => {
    setLoading(true);
    const [docs, dirs] = await Promise.allSettled([api.listDocuments(), api.listFolders()]);
    if (!mounted.current) return;
    if (docs.status === 'fulfilled') setDocuments(docs.value.documents);
    else setDocuments((d) => d ?? []);
    if (dirs.status === 'fulfilled') setFolders(dirs.value.folders);
    const failed = docs.status === 'rejected' ? docs.reason : dirs.status === 'rejected' ? dirs.reason : undefined;
    if (failed !== undefined) setError(describeError(failed, docs.status === 'rejected' ? 'Loading your documents' : 'Loading your folders'));
    setLoading(false);
  }, [api]);

  useEffect(() => void load(), [load]);
  // Saved elsewhere in the panel (the page bar's "Save page", a context-menu save): show it here too. Uploads from
  // this view reload once they are all done.
  const uploadingRef = useRef(false);
  uploadingRef.current = uploading;
  useEffect(() => onKnowledgeChanged(() => void (uploadingRef.current || load())), [load]);

  const editableFolders = folders.filter((f) => f.role === 'owner' || f.role === 'editor');
  const target = editableFolders.some((f) => f.id === uploadFolder) ? uploadFolder : '';

  const addFiles = async (files: File[]) => {
    if (files.length === 0) return;
    setUploading(true);
    setError(null);
    try {
      await uploadFiles(
        api,
        files,
        (status) => {
          if (!mounted.current) return;
          setUploads((list) => [status, ...list.filter((u) => u.key !== status.key)].slice(0, 5));
        },
        documentRequestFromFile,
        target ? { folderId: target } : {},
      );
    } finally {
      if (mounted.current) setUploading(false);
      await load();
    }
  };

  const createFolder = async (name: string) => {
    setError(null);
    try {
      const folder = await api.createFolder({ name });
      if (mounted.current) setUploadFolder(folder.id);
      await load();
      return true;
    } catch (e) {
      if (mounted.current) setError(describeError(e, 'Creating the folder'));
      return false;
    }
  };

  const confirmDelete = async (doc: DocumentView) => {
    setDeleting(doc.id);
    setError(null);
    try {
      // On success the client announces the change (knowledgeChanged) and the listener above reloads the list.
      await api.deleteDocument(doc.id);
      setConfirming(null);
    } catch (e) {
      setError(describeError(e, `Deleting “${doc.title}”`));
      void load();
    } finally {
      setDeleting(null);
    }
  };

  if (sharing) {
    return (
      <section className="knowledge" data-testid="knowledge" data-loading="false">
        <ShareDialog
          api={api}
          object={sharing}
          onClose={() => {
            setSharing(null);
            void load();
          }}
        />
      </section>
    );
  }

  return (
    <section className="knowledge" data-testid="knowledge" data-loading={loading || documents === undefined ? 'true' : 'false'} aria-labelledby="knowledge-title">
      <div className="knowledge-top">
        <h2 className="knowledge-title" id="knowledge-title">
          Knowledge base
        </h2>
        <button type="button" className="btn btn-small btn-ghost" onClick={() => void load()} data-testid="knowledge-refresh">
          Refresh
        </button>
        <button
          type="button"
          className="btn btn-small btn-primary"
          disabled={uploading}
          onClick={() => fileInput.current?.click()}
          data-testid="knowledge-add-files"
        >
          {uploading ? 'Adding…' : 'Add files'}
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          accept={ACCEPTED_FILE_TYPES}
          hidden
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            e.target.value = '';
            void addFiles(files);
          }}
          data-testid="knowledge-file-input"
        />
      </div>
      <p className="knowledge-lead">
        Deputy answers from the documents listed here and cites them. Only the people you share a document (or its folder) with can see it
        or get answers from it. Text, Markdown and HTML files up to 2 MB, PDF up to 7.5 MB.
      </p>
      {editableFolders.length > 0 && (
        <label className="upload-target">
          <span>Add files to</span>
          <select value={target} onChange={(e) => setUploadFolder(e.target.value)} data-testid="knowledge-upload-folder">
            <option value="">No folder</option>
            {editableFolders.map((f) => (
              <option key={f.id} value={f.id}>
                {revealInvisible(f.name)}
              </option>
            ))}
          </select>
        </label>
      )}
      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
      <UploadStatuses uploads={uploads} />
      <h3 className="knowledge-section">Folders</h3>
      <FolderEntries
        folders={folders}
        documents={documents ?? []}
        onShare={(f) => setSharing({ kind: 'folder', id: f.id, title: f.name })}
      />
      <NewFolderForm onCreate={createFolder} />
      <h3 className="knowledge-section">Documents</h3>
      {documents === undefined ? (
        <p className="knowledge-empty">Loading…</p>
      ) : (
        <DocumentEntries
          documents={documents}
          folders={folders}
          busy={deleting}
          confirming={confirming}
          onShare={(d) => setSharing({ kind: 'document', id: d.id, title: d.title })}
          onDelete={(d) => setConfirming(d.id)}
          onConfirmDelete={(d) => void confirmDelete(d)}
          onCancelDelete={() => setConfirming(null)}
        />
      )}
    </section>
  );
}
