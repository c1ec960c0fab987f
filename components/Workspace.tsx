import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { type ApiClient, ApiError, StepUpRequiredError } from '@/lib/api-client';
import { AuthError, type UserProfile } from '@/lib/auth';
import type { ConnectedAccountsClient } from '@/lib/connected-accounts';
import { historyFor, type LocalMessage, type LocalThread } from '@/lib/db';
import { MFA_ACR } from '@/lib/defaults';
import { watchPendingActions } from '@/lib/page-actions';
import { shownContext } from '@/lib/page-capture';
import type { PageContextItem, PublicConfig } from '@/lib/protocol';
import { pageCaptureDecision } from '@/lib/site-prefs';
import { ActivityView } from './ActivityView';
import { Composer } from './Composer';
import { ConnectedAccountsView } from './ConnectedAccountsView';
import { ConversationList } from './ConversationList';
import { ErrorNotice } from './ErrorNotice';
import { describeError, type UiError } from './errors';
import { Header } from './Header';
import { KnowledgeToggle, KnowledgeView } from './KnowledgeView';
import { PageContextBar } from './PageContextBar';
import { type PageNotice, runPageAction } from './page-action-runner';
import { QuotePreview, PageNoticeView } from './PagePanelParts';
import { usePageContext } from './use-page-context';
import type { InterruptActions } from './InterruptCard';
import { MessageList } from './MessageList';
import { RunFollower } from './run-follower';
import { buildTimeline, isRunActive, type PendingSend, type RunView } from './run-state';

interface Props {
  user: UserProfile;
  model: PublicConfig['model'];
  api: ApiClient;
  /** The user's connected accounts (Auth0 My Account API). */
  accounts: ConnectedAccountsClient;
  /** Signs the user in again interactively with a second factor (tokens for the API are replaced). */
  onStepUp: (options: { acrValues?: string; maxAgeSeconds?: number }) => Promise<void>;
  onSignOut: () => Promise<void>;
}

type ChatError = UiError & {
  /** "Send again" sends this text. */
  retryText?: string;
  /** "Reconnect" re-attaches to this run. */
  reconnectRunId?: string;
};

type ViewMessage = Pick<LocalMessage, 'id' | 'threadId' | 'role' | 'content' | 'createdAt' | 'citations' | 'context'>;

const sessionGone = (e: unknown) => e instanceof AuthError && (e.code === 'session_ended' || e.code === 'not_signed_in');

/** `m` without `key` (the same map when it has no such key). */
const without = <V,>(m: ReadonlyMap<string, V>, key: string) => {
  if (!m.has(key)) return m;
  const next = new Map(m);
  next.delete(key);
  return next;
};

export function Workspace({ user, model, api, accounts, onStepUp, onSignOut }: Props) {
  const history = useMemo(() => historyFor(user.sub), [user.sub]);
  const [threads, setThreads] = useState<LocalThread[]>([]);
  /** undefined: not decided yet (loading); null: a new, empty conversation. */
  const [currentId, setCurrentId] = useState<string | null | undefined>(undefined);
  /** Stored messages of the current conversation (a run's own answers are shown from the run). */
  const [messages, setMessages] = useState<ViewMessage[]>([]);
  /** Runs known to this panel (the current conversation's, and any followed live), by run id. */
  const [runs, setRuns] = useState<ReadonlyMap<string, RunView>>(new Map());
  /** Messages sent but not yet accepted by the server. */
  const [pending, setPending] = useState<PendingSend[]>([]);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<ChatError | null>(null);
  const [syncError, setSyncError] = useState<UiError | null>(null);
  const [showList, setShowList] = useState(false);
  const [showAccounts, setShowAccounts] = useState(false);
  const [showActivity, setShowActivity] = useState(false);
  const [showKnowledge, setShowKnowledge] = useState(false);
  /** The page next to the panel (context chip), a selection quoted for the user's own question, page-action notices. */
  const page = usePageContext();
  const [quote, setQuote] = useState<PageContextItem | null>(null);
  const [pageNotice, setPageNotice] = useState<PageNotice | null>(null);
  const [savingPage, setSavingPage] = useState(false);
  /** What a typed message carries: the quoted selection and the included page (never mixed into the text). */
  const typedContext = useRef<() => PageContextItem[]>(() => []);
  typedContext.current = () => [...(quote ? [quote] : []), ...(page.included && page.capture ? [page.capture.page] : [])];
  /** The run whose pause is being dealt with (connect, step-up, cancel), and why the last attempt per run did not work. */
  const [acting, setActing] = useState<string | null>(null);
  const [pauseErrors, setPauseErrors] = useState<ReadonlyMap<string, string>>(new Map());
  const [signingOut, setSigningOut] = useState(false);
  const [follower, setFollower] = useState<RunFollower | null>(null);
  /** Thread whose messages are already in `messages` (set while a run creates/extends it; skips a reload). */
  const loadedThread = useRef<string | null | undefined>(undefined);
  const currentRef = useRef<string | null | undefined>(undefined);
  currentRef.current = currentId;
  const messagesRef = useRef<ViewMessage[]>([]);
  messagesRef.current = messages;
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => void (mounted.current = false);
  }, []);

  const refreshThreads = useCallback(async () => {
    const list = await history.listThreads();
    if (mounted.current) setThreads(list);
    return list;
  }, [history]);

  const putRun = useCallback((run: RunView) => setRuns((m) => (m.get(run.runId) === run ? m : new Map(m).set(run.runId, run))), []);

  // One follower per signed-in workspace: it follows runs (several at once) and keeps them in local history.
  useEffect(() => {
    const f = new RunFollower({
      api,
      history,
      onRun(run, previous) {
        if (!mounted.current) return;
        putRun(run);
        if (run.status === previous?.status) return;
        // The conversation list shows running/paused: refresh it once the new status is stored.
        void f.flush(run.runId).then(refreshThreads);
        if (run.status === 'failed' && run.error && run.threadId === currentRef.current && run.error.code !== 'run_not_found') {
          const text = messagesRef.current.find((m) => m.id === run.userMessageId)?.content;
          setError({
            title: 'The answer failed',
            message: `${run.error.message} ${text ? 'You can send your message again.' : 'Try again.'}`,
            code: run.error.code,
            retryable: Boolean(text),
            retryText: text,
          });
        }
      },
      onConnectionLost(runId, e) {
        if (!mounted.current || sessionGone(e)) return;
        const run = f.get(runId);
        if (run && run.threadId !== currentRef.current) return; // retried when that conversation is opened
        const described = describeError(e, 'Following the answer');
        setError({
          title: 'Connection lost',
          message: `${described.message} Your request keeps running on the server; reconnect to see the rest.`,
          code: described.code,
          retryable: true,
          reconnectRunId: runId,
        });
      },
      log: (line) => console.warn(`[deputy] ${line}`),
    });
    setFollower(f);
    return () => {
      setFollower(null);
      void f.close();
    };
  }, [api, history, putRun, refreshThreads]);

  // When the panel opens: re-attach the unfinished runs of recent conversations (Last-Event-ID), so their answers,
  // tool activity and pauses are current here and in the conversation list.
  useEffect(() => {
    if (!follower) return;
    void history.listThreads().then((list) => {
      for (const t of list.filter((t) => t.activeRun).slice(0, 10)) void follower.attach(t.activeRun!.runId);
    });
  }, [follower, history]);

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
        if (cancelled || sessionGone(e)) return;
        setSyncError(describeError(e, 'Syncing conversations'));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [api, history, refreshThreads]);

  // The selected conversation: messages and runs from local history first; an unfinished run is re-attached
  // (Last-Event-ID); messages are fetched from the server when this browser has none.
  useEffect(() => {
    if (currentId === undefined || !follower) return;
    if (loadedThread.current === currentId) return;
    loadedThread.current = currentId;
    if (currentId === null) {
      setMessages([]);
      return;
    }
    let cancelled = false;
    let finished = false;
    void (async () => {
      const [local, stored] = await Promise.all([history.listMessages(currentId), history.listRuns(currentId)]);
      if (cancelled) return;
      const views = stored.map((r) => follower.adopt(r));
      setMessages(local);
      setRuns((m) => {
        const next = new Map(m);
        for (const v of views) next.set(v.runId, v);
        return next;
      });
      for (const v of views) if (isRunActive(v)) void follower.attach(v.runId);
      if (local.length > 0) {
        finished = true;
        return;
      }
      try {
        const detail = await api.getThread(currentId);
        await history.putMessages(detail.messages);
        if (cancelled) return;
        setMessages(detail.messages);
      } catch (e) {
        if (!cancelled && !sessionGone(e)) setError(describeError(e, 'Loading the conversation'));
      }
      finished = true;
    })();
    return () => {
      cancelled = true;
      if (!finished && loadedThread.current === currentId) loadedThread.current = undefined;
    };
  }, [currentId, api, history, follower]);

  const send = useCallback(
    async (text: string, explicit?: { context: PageContextItem[]; newConversation?: boolean }) => {
      const message = text.trim();
      if (!message || !follower) return;
      if (explicit?.newConversation) {
        // A page action starts its own conversation.
        setShowList(false);
        loadedThread.current = undefined;
        currentRef.current = null;
        setCurrentId(null);
      }
      const threadId = currentRef.current ?? null;
      const context = explicit ? explicit.context : typedContext.current();
      const shown = shownContext(context);
      if (!explicit) setQuote(null);
      setError(null);
      setDraft('');
      const clientMessageId = crypto.randomUUID();
      setPending((p) => [...p, { clientMessageId, threadId, content: message, ...(shown ? { context: shown } : {}) }]);
      const dropPending = () => setPending((p) => p.filter((x) => x.clientMessageId !== clientMessageId));
      try {
        await follower.send({ threadId: threadId ?? undefined, clientMessageId, message, ...(context.length ? { context } : {}) }, (ev, run) => {
          if (!mounted.current) return;
          putRun(run);
          dropPending();
          // Still looking at the conversation the message was sent from: show it there (a new one gets its id).
          if ((currentRef.current ?? null) === threadId) {
            loadedThread.current = ev.threadId;
            setCurrentId(ev.threadId);
            const userMessage: ViewMessage = { id: ev.userMessageId, threadId: ev.threadId, role: 'user', content: message, createdAt: run.startedAt, ...(shown ? { context: shown } : {}) };
            setMessages((list) => (threadId === null ? [userMessage] : [...list.filter((m) => m.id !== userMessage.id), userMessage]));
          }
          void refreshThreads();
        });
      } catch (e) {
        if (!mounted.current) return;
        dropPending();
        if (e instanceof AuthError && e.code === 'session_ended') return; // the signed-out view takes over
        // Nothing was stored: put the text back so the user can send it again.
        const described = describeError(e, 'Sending');
        setDraft((d) => d || message);
        const quoted = explicit ? undefined : context.find((c) => c.kind === 'selection');
        if (quoted) setQuote((q) => q ?? quoted);
        if ((currentRef.current ?? null) === threadId) {
          setError({ ...described, message: `${described.message} Your message was not sent.` });
        }
      }
    },
    [follower, putRun, refreshThreads],
  );

  // Page actions (context menus, the keyboard command, the toolbar button) left for this window: taken exactly once,
  // when the panel mounts or when one arrives while it is open.
  const pageActionDeps = useRef<Parameters<typeof runPageAction>[1] | null>(null);
  pageActionDeps.current = {
    read: page.read,
    decide: (url) => pageCaptureDecision(url),
    send: (text, context) => send(text, { context, newConversation: true }),
    quote: (item) => {
      setQuote(item);
      document.querySelector<HTMLTextAreaElement>('[data-testid="composer"]')?.focus();
    },
    save: (request) => api.createDocument(request),
    notify: (n) => mounted.current && setPageNotice(n),
    now: () => new Date(),
  };
  useEffect(() => {
    if (page.windowId === undefined || !follower) return;
    return watchPendingActions(page.windowId, (action) => {
      setPageNotice(null);
      void runPageAction(action, pageActionDeps.current!);
    });
  }, [page.windowId, follower]);

  const savePage = useCallback(async () => {
    const capture = page.capture;
    if (!capture) return;
    setSavingPage(true);
    setPageNotice(null);
    try {
      const doc = await api.createDocument({
        title: capture.title.slice(0, 300),
        url: capture.url,
        source: 'page',
        contentType: 'text/plain',
        text: capture.fullText.slice(0, 2_000_000),
      });
      if (mounted.current) setPageNotice({ kind: 'ok', title: 'Saved to your knowledge base', message: `“${doc.title}” is saved; Deputy can cite it in answers.` });
    } catch (e) {
      if (mounted.current) setPageNotice({ kind: 'error', ...describeError(e, 'Saving the page') });
    } finally {
      if (mounted.current) setSavingPage(false);
    }
  }, [api, page.capture]);

  /** Runs `action` for a paused run: one at a time; a failure is shown on that run's card and the run stays paused. */
  const actOnPause = useCallback(
    async (run: RunView, what: string, action: () => Promise<void>, explain: (e: unknown) => string | undefined = () => undefined) => {
      setActing(run.runId);
      setPauseErrors((m) => without(m, run.runId));
      try {
        await action();
      } catch (e) {
        if (!mounted.current) return;
        const message = explain(e) ?? describeError(e, what).message;
        setPauseErrors((m) => new Map(m).set(run.runId, `${message} The request stays paused; you can try again.`));
      } finally {
        if (mounted.current) setActing(null);
      }
    },
    [],
  );

  // A paused call needs an account: connect it in a browser window, then the run goes on at that same call (the
  // conversation and the paused request are never lost; nothing is re-sent).
  const connectAndResume = useCallback(
    (run: RunView) => {
      const interrupt = run.interrupt;
      if (interrupt?.kind !== 'connect_required' || !interrupt.connection || !follower) return;
      void actOnPause(run, 'Connecting', async () => {
        await accounts.connect(interrupt.connection!, interrupt.scopes ?? []);
        await api.connectionsChanged().catch(() => {});
        await api.resumeRun(run.runId, interrupt.toolCallId);
        void follower.attach(run.runId);
      });
    },
    [accounts, api, follower, actOnPause],
  );

  // A critical call needs a fresh multi-factor sign-in: sign in again, then resume with the new token.
  const stepUpAndResume = useCallback(
    (run: RunView) => {
      const interrupt = run.interrupt;
      if (interrupt?.kind !== 'step_up_required' || !follower) return;
      void actOnPause(
        run,
        'Verifying',
        async () => {
          await onStepUp({ acrValues: interrupt.acrValues ?? MFA_ACR, maxAgeSeconds: interrupt.maxAgeSeconds });
          await api.resumeRun(run.runId, interrupt.toolCallId);
          void follower.attach(run.runId);
        },
        (e) =>
          e instanceof StepUpRequiredError
            ? 'The server still needs a recent sign-in with a second factor. Make sure you used your second factor when verifying.'
            : undefined,
      );
    },
    [api, follower, onStepUp, actOnPause],
  );

  // Withdraws the approval request; the run learns it (approval.resolved: cancelled) while it is followed.
  const cancelApproval = useCallback(
    (run: RunView) => {
      const interrupt = run.interrupt;
      if (interrupt?.kind !== 'approval_pending' || !interrupt.approvalId || !follower) return;
      void actOnPause(run, 'Cancelling the request', async () => {
        try {
          await api.cancelApproval(interrupt.approvalId!);
        } catch (e) {
          // Answered or expired meanwhile: the run's events say how.
          if (!(e instanceof ApiError && e.code === 'not_pending')) throw e;
        }
        void follower.attach(run.runId);
      });
    },
    [api, follower, actOnPause],
  );

  const interruptActions = useCallback(
    (run: RunView): InterruptActions => {
      const common = { busy: acting !== null };
      const error = pauseErrors.get(run.runId);
      switch (run.interrupt?.kind) {
        case 'connect_required':
          return { ...common, onConnect: () => connectAndResume(run), connectError: error };
        case 'step_up_required':
          return { ...common, onStepUp: () => stepUpAndResume(run), stepUpError: error };
        case 'approval_pending':
          return { ...common, onCancel: run.interrupt.approvalId ? () => cancelApproval(run) : undefined, cancelError: error };
        default:
          return {};
      }
    },
    [acting, pauseErrors, connectAndResume, stepUpAndResume, cancelApproval],
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
  const here = currentId ?? null;
  const threadRuns = useMemo(() => (here ? [...runs.values()].filter((r) => r.threadId === here) : []), [runs, here]);
  const threadPending = useMemo(() => pending.filter((p) => p.threadId === here), [pending, here]);
  const items = useMemo(
    () => buildTimeline(here ? messages.filter((m) => m.threadId === here) : [], threadRuns, threadPending),
    [messages, threadRuns, threadPending, here],
  );
  // One request at a time per conversation; other conversations stay usable.
  const busy = threadPending.length > 0 || threadRuns.some((r) => r.status === 'running');

  const retry = error?.reconnectRunId
    ? () => {
        const id = error.reconnectRunId!;
        setError(null);
        void follower?.attach(id);
      }
    : error?.retryText
      ? () => void send(error.retryText!)
      : undefined;

  return (
    <div className="workspace" data-testid="workspace">
      <Header
        user={user}
        model={model}
        signingOut={signingOut}
        onSignOut={() => void signOut()}
        actions={<KnowledgeToggle open={showKnowledge} onToggle={() => setShowKnowledge((s) => !s)} />}
      />
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
        <button
          type="button"
          className={`btn btn-small btn-ghost${showAccounts ? ' is-active' : ''}`}
          aria-expanded={showAccounts}
          aria-controls="accounts-drawer"
          onClick={() => setShowAccounts((s) => !s)}
          data-testid="accounts-toggle"
        >
          Accounts
        </button>
        <button
          type="button"
          className={`btn btn-small btn-ghost${showActivity ? ' is-active' : ''}`}
          aria-expanded={showActivity}
          aria-controls="activity-drawer"
          onClick={() => setShowActivity((s) => !s)}
          data-testid="activity-toggle"
        >
          Activity
        </button>
        <button type="button" className="btn btn-small" onClick={newConversation} data-testid="new-conversation">
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
            <ConversationList threads={threads} currentId={here} disabled={false} onSelect={selectThread} />
          </div>
        )}
        {showAccounts && (
          <div className="drawer" id="accounts-drawer" data-testid="accounts-drawer">
            <ConnectedAccountsView client={accounts} onChanged={() => api.connectionsChanged()} />
          </div>
        )}
        {showActivity && (
          <div className="drawer" id="activity-drawer" data-testid="activity-drawer">
            <ActivityView api={api} onCancelled={(a) => void follower?.attach(a.runId)} />
          </div>
        )}
        {showKnowledge && (
          <div className="drawer" id="knowledge-drawer" data-testid="knowledge-drawer">
            <KnowledgeView api={api} />
          </div>
        )}
        <MessageList
          interruptActions={interruptActions}
          items={items}
          emptyHint={`Ask Deputy anything. Answers come from the ${model.offline ? 'offline model' : 'model'} ${model.name}.`}
        />
      </div>
      {error && (
        <ErrorNotice
          error={error}
          onRetry={retry}
          retryLabel={error.reconnectRunId ? 'Reconnect' : 'Send again'}
          onDismiss={() => setError(null)}
        />
      )}
      {pageNotice && <PageNoticeView notice={pageNotice} onDismiss={() => setPageNotice(null)} />}
      <PageContextBar ctx={page} onSavePage={() => void savePage()} saving={savingPage} />
      {quote && <QuotePreview item={quote} onRemove={() => setQuote(null)} />}
      <Composer
        value={draft}
        onChange={setDraft}
        onSend={() => void send(draft)}
        busy={busy}
        busyLabel={threadPending.length > 0 ? 'Sending…' : 'Working…'}
        disabled={!follower}
      />
    </div>
  );
}
