import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ApiClient } from '@/lib/api-client';
import { AuthError, type UserProfile } from '@/lib/auth';
import { historyFor, type LocalThread, titleFrom } from '@/lib/db';
import type { PublicConfig } from '@/lib/protocol';
import { Composer } from './Composer';
import { ConversationList } from './ConversationList';
import { ErrorNotice } from './ErrorNotice';
import { describeError, type UiError } from './errors';
import { Header } from './Header';
import { MessageList, type UiMessage } from './MessageList';

interface Props {
  user: UserProfile;
  model: PublicConfig['model'];
  api: ApiClient;
  onSignOut: () => Promise<void>;
}

type ChatError = UiError & { retryText?: string };

export function Workspace({ user, model, api, onSignOut }: Props) {
  const history = useMemo(() => historyFor(user.sub), [user.sub]);
  const [threads, setThreads] = useState<LocalThread[]>([]);
  /** undefined: not decided yet (loading); null: a new, empty conversation. */
  const [currentId, setCurrentId] = useState<string | null | undefined>(undefined);
  const [messages, setMessages] = useState<UiMessage[]>([]);
  const [draft, setDraft] = useState('');
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<ChatError | null>(null);
  const [syncError, setSyncError] = useState<UiError | null>(null);
  const [showList, setShowList] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  /** Thread whose messages are already in `messages` (set while a run creates/extends it; skips a reload). */
  const loadedThread = useRef<string | null | undefined>(undefined);
  const mounted = useRef(true);
  useEffect(() => () => void (mounted.current = false), []);

  const refreshThreads = useCallback(async () => {
    const list = await history.listThreads();
    if (mounted.current) setThreads(list);
    return list;
  }, [history]);

  // Local history first (instant), then the server's list merged in.
  useEffect(() => {
    let cancelled = false;
    void (async () => {
      const local = await refreshThreads();
      if (cancelled) return;
      setCurrentId((cur) => (cur === undefined ? (local[0]?.id ?? null) : cur));
      try {
        const remote = await api.listThreads();
        await history.mergeThreads(remote.threads);
        const merged = await refreshThreads();
        if (cancelled) return;
        setSyncError(null);
        setCurrentId((cur) => (cur === null && local.length === 0 && merged.length ? merged[0].id : cur));
      } catch (e) {
        if (cancelled || (e instanceof AuthError && (e.code === 'session_ended' || e.code === 'not_signed_in'))) return;
        setSyncError(describeError(e, 'Syncing conversations'));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [api, history, refreshThreads]);

  // Messages of the selected conversation: local first; fetched from the server when we have none locally.
  useEffect(() => {
    if (currentId === undefined) return;
    if (loadedThread.current === currentId) return;
    loadedThread.current = currentId;
    if (currentId === null) {
      setMessages([]);
      return;
    }
    let cancelled = false;
    void (async () => {
      const local = await history.listMessages(currentId);
      if (cancelled) return;
      setMessages(local.map(({ id, role, content }) => ({ id, role, content })));
      if (local.length > 0) return;
      try {
        const detail = await api.getThread(currentId);
        await history.putMessages(detail.messages);
        if (cancelled) return;
        setMessages(detail.messages.map(({ id, role, content }) => ({ id, role, content })));
      } catch (e) {
        if (!cancelled && !(e instanceof AuthError && e.code === 'session_ended')) {
          setError(describeError(e, 'Loading the conversation'));
        }
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [currentId, api, history]);

  const send = useCallback(
    async (text: string) => {
      const message = text.trim();
      if (!message || running) return;
      setError(null);
      setRunning(true);
      setDraft('');
      const clientMessageId = crypto.randomUUID();
      const startedAt = new Date().toISOString();
      let threadId = currentId ?? undefined;
      let userMessageId: string | undefined;
      /** UI id of the answer: a placeholder until message.completed gives the server's id. */
      let assistantId = `pending-${clientMessageId}`;
      let acceptedByServer = false;
      setMessages((m) => [
        ...m,
        { id: clientMessageId, role: 'user', content: message, pending: true },
        { id: assistantId, role: 'assistant', content: '', streaming: true },
      ]);
      // React runs updaters later: capture the id now, not when the updater runs.
      const patchAssistant = (patch: (m: UiMessage) => UiMessage) => {
        const id = assistantId;
        setMessages((list) => list.map((m) => (m.id === id ? patch(m) : m)));
      };

      try {
        for await (const ev of api.chat({ threadId, clientMessageId, message })) {
          switch (ev.type) {
            case 'run.started': {
              acceptedByServer = true;
              threadId = ev.threadId;
              userMessageId = ev.userMessageId;
              const existing = await history.getThread(ev.threadId);
              await history.upsertThread({
                id: ev.threadId,
                title: existing?.title ?? titleFrom(message),
                createdAt: existing?.createdAt ?? startedAt,
                updatedAt: startedAt,
              });
              await history.putMessages([
                { id: ev.userMessageId, threadId: ev.threadId, role: 'user', content: message, createdAt: startedAt },
              ]);
              loadedThread.current = ev.threadId;
              setCurrentId(ev.threadId);
              setMessages((list) => list.map((m) => (m.id === clientMessageId ? { ...m, id: ev.userMessageId, pending: false } : m)));
              void refreshThreads();
              break;
            }
            case 'message.delta': {
              patchAssistant((m) => ({ ...m, content: m.content + ev.delta }));
              break;
            }
            case 'message.completed': {
              const done = ev.message;
              // Keep user-before-assistant order even if the server's clock is behind ours.
              if (userMessageId && done.createdAt <= startedAt) {
                const fixed = new Date(new Date(done.createdAt).getTime() - 1).toISOString();
                await history.putMessages([{ id: userMessageId, threadId: done.threadId, role: 'user', content: message, createdAt: fixed }]);
              }
              await history.putMessages([done]);
              await history.upsertThread({
                ...((await history.getThread(done.threadId)) ?? { id: done.threadId, title: titleFrom(message), createdAt: startedAt }),
                updatedAt: done.createdAt > startedAt ? done.createdAt : startedAt,
              });
              patchAssistant(() => ({ id: done.id, role: 'assistant', content: done.content, streaming: false }));
              assistantId = done.id;
              break;
            }
            case 'run.failed': {
              setError({
                title: 'The answer failed',
                message: `${ev.error.message} You can send your message again.`,
                code: ev.error.code,
                retryable: true,
                retryText: message,
              });
              break;
            }
            case 'run.completed':
              break;
          }
        }
      } catch (e) {
        if (!mounted.current) return;
        if (e instanceof AuthError && e.code === 'session_ended') {
          // The signed-out view takes over (with "Your session ended — sign in again").
          return;
        }
        const described = describeError(e, 'Sending');
        if (!acceptedByServer) {
          // Nothing was stored: put the text back so the user can send it again.
          setMessages((list) => list.filter((m) => m.id !== clientMessageId));
          setDraft((d) => d || message);
          setError({ ...described, message: `${described.message} Your message was not sent.` });
        } else {
          setError({ ...described, retryText: undefined });
        }
      } finally {
        if (mounted.current) {
          // Drop an empty assistant placeholder (failed before any text), stop the cursor on a partial answer.
          const id = assistantId;
          setMessages((list) =>
            list.filter((m) => !(m.id === id && m.streaming && !m.content)).map((m) => (m.id === id ? { ...m, streaming: false } : m)),
          );
          setRunning(false);
          void refreshThreads();
        }
      }
    },
    [api, currentId, history, refreshThreads, running],
  );

  const newConversation = () => {
    setError(null);
    setShowList(false);
    loadedThread.current = undefined;
    setCurrentId(null);
  };

  const selectThread = (id: string) => {
    setError(null);
    setShowList(false);
    if (id !== currentId) loadedThread.current = undefined;
    setCurrentId(id);
  };

  const signOut = async () => {
    setSigningOut(true);
    try {
      await onSignOut();
    } finally {
      if (mounted.current) setSigningOut(false);
    }
  };

  const current = threads.find((t) => t.id === currentId);

  return (
    <div className="workspace" data-testid="workspace">
      <Header user={user} model={model} signingOut={signingOut} onSignOut={() => void signOut()} />
      <div className="toolbar">
        <button
          type="button"
          className={`btn btn-small btn-ghost${showList ? ' is-active' : ''}`}
          aria-expanded={showList}
          aria-controls="conversation-drawer"
          onClick={() => setShowList((s) => !s)}
          data-testid="conversations-toggle"
        >
          <span aria-hidden="true">☰</span> Conversations{threads.length ? ` (${threads.length})` : ''}
        </button>
        <span className="toolbar-title" title={current?.title}>
          {current?.title ?? 'New conversation'}
        </span>
        <button type="button" className="btn btn-small" onClick={newConversation} disabled={running} data-testid="new-conversation">
          + New
        </button>
      </div>
      {syncError && (
        <ErrorNotice
          error={{ ...syncError, message: `${syncError.message} Showing the history saved in this browser.` }}
          onDismiss={() => setSyncError(null)}
        />
      )}
      <div className="main-area">
        {showList && (
          <div className="drawer" id="conversation-drawer" data-testid="conversation-drawer">
            <ConversationList threads={threads} currentId={currentId ?? null} disabled={running} onSelect={selectThread} />
          </div>
        )}
        <MessageList
          messages={messages}
          emptyHint={`Ask Deputy anything. Answers come from the ${model.offline ? 'offline model' : 'model'} ${model.name}.`}
        />
      </div>
      {error && (
        <ErrorNotice
          error={error}
          onRetry={error.retryText ? () => void send(error.retryText!) : undefined}
          retryLabel="Send again"
          onDismiss={() => setError(null)}
        />
      )}
      <Composer value={draft} onChange={setDraft} onSend={() => void send(draft)} busy={running} />
    </div>
  );
}
