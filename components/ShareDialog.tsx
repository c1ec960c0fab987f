import { type FormEvent, useCallback, useEffect, useState } from 'react';
import type { ApiClient, SharedObject } from '@/lib/api-client';
import type { ShareRequest } from '@/lib/protocol';
import { ErrorNotice } from './ErrorNotice';
import { describeError, type UiError } from './errors';
import { type ShareForm, shareRequestFromForm, shareText, subjectKey, type ShareTarget } from './knowledge-format';
import { revealInvisible } from './run-state';

type ShareEntry = { subject: ShareRequest['subject']; relation: 'owner' | 'viewer' | 'editor'; label: string };

/** Who has access to a document; every grant but the owner's can be removed. */
export function ShareEntries({
  shares,
  removing,
  onRemove,
}: {
  shares: ShareEntry[];
  /** The key (`subjectKey`) of the share being removed right now. */
  removing?: string | null;
  onRemove: (share: ShareEntry & { relation: 'viewer' | 'editor' }) => void;
}) {
  if (shares.length === 0) {
    return (
      <p className="share-empty" data-testid="shares-empty">
        Not shared with anyone yet.
      </p>
    );
  }
  return (
    <ul className="share-list" data-testid="share-list">
      {shares.map((s) => {
        const key = `${subjectKey(s.subject)}#${s.relation}`;
        return (
          <li key={key} className="share-entry" data-testid="share-entry" data-subject={subjectKey(s.subject)} data-relation={s.relation}>
            <span className="share-text">{shareText(s)}</span>
            {s.relation !== 'owner' && (
              <button
                type="button"
                className="btn btn-small btn-ghost"
                disabled={Boolean(removing)}
                onClick={() => onRemove(s as ShareEntry & { relation: 'viewer' | 'editor' })}
                aria-label={`Remove access for ${s.label}`}
                data-testid="share-remove"
              >
                {removing === key ? 'Removing…' : 'Remove'}
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}

const TARGET_PLACEHOLDER: Record<Exclude<ShareTarget, 'organization'>, string> = {
  user: 'name@example.com',
  group: 'group id, e.g. engineering',
};

/** What the dialog shares: a document, or a folder (and so everything in it). */
export interface ShareTargetObject {
  kind: SharedObject;
  id: string;
  title: string;
}

/**
 * Sharing one document or folder: grant a person (by e-mail), a group, or the whole organisation viewer or editor
 * access, and see and remove the grants. The server (FGA) decides; its refusals are shown as it words them.
 */
export function ShareDialog({
  api,
  object: doc,
  onClose,
}: {
  api: Pick<ApiClient, 'listShares' | 'share' | 'revokeShare'> & Partial<Pick<ApiClient, 'listGroups'>>;
  object: ShareTargetObject;
  onClose: () => void;
}) {
  const [shares, setShares] = useState<ShareEntry[] | undefined>(undefined);
  const [form, setForm] = useState<ShareForm>({ target: 'user', value: '', relation: 'viewer' });
  const [formError, setFormError] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [saving, setSaving] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  /** The caller's groups, offered as suggestions (sharing with another group is still possible by id). */
  const [groups, setGroups] = useState<string[]>([]);

  const load = useCallback(async () => {
    try {
      setShares((await api.listShares(doc.id, doc.kind)).shares);
    } catch (e) {
      setShares((s) => s ?? []);
      setError(describeError(e, 'Loading who has access'));
    }
  }, [api, doc.id, doc.kind]);

  useEffect(() => void load(), [load]);
  useEffect(() => {
    void api
      .listGroups?.()
      .then((g) => setGroups(g.groups.map((x) => x.id)))
      .catch(() => {});
  }, [api]);

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setNotice(null);
    const built = shareRequestFromForm(form);
    if (!built.ok) {
      setFormError(built.message);
      return;
    }
    setFormError(null);
    setError(null);
    setSaving(true);
    try {
      await api.share(doc.id, built.request, doc.kind);
      setForm((f) => ({ ...f, value: '' }));
      setNotice('Shared.');
    } catch (e) {
      setError(describeError(e, 'Sharing'));
    } finally {
      setSaving(false);
      await load();
    }
  };

  const remove = async (share: ShareEntry & { relation: 'viewer' | 'editor' }) => {
    setRemoving(`${subjectKey(share.subject)}#${share.relation}`);
    setError(null);
    setNotice(null);
    try {
      await api.revokeShare(doc.id, { subject: share.subject, relation: share.relation }, doc.kind);
      setNotice(`Removed: ${share.label}.`);
    } catch (e) {
      setError(describeError(e, 'Removing access'));
    } finally {
      setRemoving(null);
      await load();
    }
  };

  const titleId = `share-title-${doc.id}`;
  return (
    <section className="share-dialog" role="dialog" aria-labelledby={titleId} data-testid="share-dialog" data-kind={doc.kind} data-object-id={doc.id}>
      <div className="knowledge-top">
        <h3 className="knowledge-subtitle" id={titleId}>
          Share {doc.kind === 'folder' ? 'folder ' : ''}“{revealInvisible(doc.title)}”
        </h3>
        <button type="button" className="btn btn-small btn-ghost" onClick={onClose} data-testid="share-close">
          Done
        </button>
      </div>
      {doc.kind === 'folder' && (
        <p className="knowledge-lead">Whoever you share the folder with gets the same access to every document in it, now and later.</p>
      )}
      <form className="share-form" onSubmit={(e) => void submit(e)} noValidate data-testid="share-form">
        <label className="share-field">
          <span>With</span>
          <select
            value={form.target}
            onChange={(e) => setForm({ ...form, target: e.target.value as ShareTarget, value: '' })}
            data-testid="share-target"
          >
            <option value="user">A person</option>
            <option value="group">A group</option>
            <option value="organization">Everyone in your organization</option>
          </select>
        </label>
        {form.target !== 'organization' && (
          <label className="share-field">
            <span>{form.target === 'user' ? 'E-mail' : 'Group'}</span>
            <input
              type={form.target === 'user' ? 'email' : 'text'}
              value={form.value}
              placeholder={TARGET_PLACEHOLDER[form.target]}
              onChange={(e) => setForm({ ...form, value: e.target.value })}
              autoComplete="off"
              list={form.target === 'group' && groups.length ? `share-groups-${doc.id}` : undefined}
              data-testid="share-value"
            />
            {form.target === 'group' && groups.length > 0 && (
              <datalist id={`share-groups-${doc.id}`}>
                {groups.map((g) => (
                  <option key={g} value={g} />
                ))}
              </datalist>
            )}
          </label>
        )}
        <label className="share-field">
          <span>Access</span>
          <select value={form.relation} onChange={(e) => setForm({ ...form, relation: e.target.value as ShareForm['relation'] })} data-testid="share-relation">
            <option value="viewer">Can view</option>
            <option value="editor">Can edit</option>
          </select>
        </label>
        <button type="submit" className="btn btn-small btn-primary" disabled={saving} data-testid="share-submit">
          {saving ? 'Sharing…' : 'Share'}
        </button>
      </form>
      {formError && (
        <p className="interrupt-error" role="alert" data-testid="share-form-error">
          {formError}
        </p>
      )}
      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
      {notice && (
        <p className="knowledge-notice" role="status" data-testid="share-notice">
          {notice}
        </p>
      )}
      <h4 className="knowledge-section">Who has access</h4>
      {shares === undefined ? (
        <p className="share-empty">Loading…</p>
      ) : (
        <ShareEntries shares={shares} removing={removing} onRemove={(s) => void remove(s)} />
      )}
    </section>
  );
}
