import { type FormEvent, useState } from 'react';
import type { DocumentView, FolderView } from '@/lib/protocol';
import { canShare, ROLE_LABEL } from './knowledge-format';
import { revealInvisible } from './run-state';

function FolderIcon() {
  return (
    <svg className="folder-icon" width="18" height="18" viewBox="0 0 24 24" aria-hidden="true">
      <path d="M3 6.5A1.5 1.5 0 0 1 4.5 5h4.4l2 2h8.6A1.5 1.5 0 0 1 21 8.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z" fill="currentColor" />
    </svg>
  );
}

/** The folders the user may view: name, the user's role, how many of the listed documents are in it, and Share. */
export function FolderEntries({
  folders,
  documents,
  onShare,
}: {
  folders: FolderView[];
  documents: Pick<DocumentView, 'folderId'>[];
  onShare: (folder: FolderView) => void;
}) {
  if (folders.length === 0) {
    return (
      <p className="knowledge-empty knowledge-empty-small" data-testid="folders-empty">
        No folders. Sharing a folder shares everything in it.
      </p>
    );
  }
  const parentName = (id: string | undefined) => (id ? folders.find((f) => f.id === id)?.name : undefined);
  return (
    <ul className="folder-list" data-testid="folder-list">
      {folders.map((f) => {
        const n = documents.filter((d) => d.folderId === f.id).length;
        const parent = parentName(f.parentId);
        return (
          <li key={f.id} className="folder" data-testid="folder" data-folder-id={f.id} data-role={f.role}>
            <FolderIcon />
            <span className="folder-text">
              <span className="folder-name" data-testid="folder-name">
                {revealInvisible(f.name)}
              </span>
              <span className="folder-meta">
                {n} document{n === 1 ? '' : 's'}
                {parent ? ` · in ${revealInvisible(parent)}` : ''}
              </span>
            </span>
            <span className={`document-role document-role-${f.role}`}>{ROLE_LABEL[f.role]}</span>
            {canShare(f) && (
              <button type="button" className="btn btn-small" onClick={() => onShare(f)} data-testid="folder-share">
                Share
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/** "New folder": a name, then Create. `onCreate` resolves true when the folder was made (the field is cleared). */
export function NewFolderForm({ onCreate }: { onCreate: (name: string) => Promise<boolean> }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  if (!open) {
    return (
      <button type="button" className="btn btn-small btn-ghost new-folder-toggle" onClick={() => setOpen(true)} data-testid="folder-new">
        + New folder
      </button>
    );
  }
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    setBusy(true);
    const ok = await onCreate(name.trim());
    setBusy(false);
    if (ok) {
      setName('');
      setOpen(false);
    }
  };
  return (
    <form className="new-folder" onSubmit={(e) => void submit(e)} data-testid="folder-form">
      <input
        value={name}
        onChange={(e) => setName(e.target.value)}
        placeholder="Folder name"
        maxLength={200}
        aria-label="Folder name"
        autoFocus
        data-testid="folder-name-input"
      />
      <button type="submit" className="btn btn-small btn-primary" disabled={busy || !name.trim()} data-testid="folder-create">
        {busy ? 'Creating…' : 'Create'}
      </button>
      <button type="button" className="btn btn-small btn-ghost" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </form>
  );
}
