import { useEffect, useRef } from 'react';
import { Markdown } from '@/lib/markdown';
import type { ShownContext } from '@/lib/db';
import type { Citation } from '@/lib/protocol';
import { CitationList } from './Citations';
import { ContextRefs } from './ContextRefs';
import { InterruptCard, type InterruptActions } from './InterruptCard';
import { interruptedCall, isRunWorking, type RunView, type TimelineItem } from './run-state';
import { ToolCallRow } from './ToolCallRow';

function Typing() {
  return (
    <span className="typing" aria-label="Deputy is working" data-testid="typing">
      <span />
      <span />
      <span />
    </span>
  );
}

function UserMessage({ id, content, pending, context }: { id: string; content: string; pending?: boolean; context?: ShownContext[] }) {
  return (
    <article
      className={`message message-user${pending ? ' is-pending' : ''}`}
      aria-label="You"
      data-testid="message"
      data-role="user"
      data-streaming="false"
      data-message-id={id}
    >
      <div className="message-author">You</div>
      {context && context.length > 0 && <ContextRefs items={context} />}
      <div className="message-body" data-testid="message-body">
        <p className="message-plain">{content}</p>
      </div>
    </article>
  );
}

/** One assistant message (one model turn). Model output is untrusted: it goes through the safe Markdown renderer. */
function AssistantMessage({ id, content, streaming, citations }: { id: string; content: string; streaming: boolean; citations?: Citation[] }) {
  return (
    <article
      className={`message message-assistant${streaming ? ' is-streaming' : ''}`}
      aria-label="Deputy"
      data-testid="message"
      data-role="assistant"
      data-streaming={streaming ? 'true' : 'false'}
      data-message-id={id}
    >
      <div className="message-body" data-testid="message-body">
        {content ? <Markdown text={content} /> : <Typing />}
        {streaming && content && <span className="cursor" aria-hidden="true" />}
      </div>
      {!streaming && citations && citations.length > 0 && <CitationList citations={citations} />}
    </article>
  );
}

/** Everything one run showed: its messages and tool calls in order, a pause card, a failure. */
function RunTurn({ run, interruptActions }: { run: RunView; interruptActions?: (run: RunView) => InterruptActions }) {
  const call = interruptedCall(run);
  return (
    <section className="turn" aria-label="Deputy" data-testid="assistant-turn" data-run-id={run.runId} data-run-state={run.status}>
      <div className="message-author">Deputy</div>
      {run.parts.map((p) =>
        p.kind === 'message' ? (
          p.content || p.streaming ? (
            <AssistantMessage key={`m-${p.id}`} id={p.id} content={p.content} streaming={p.streaming} citations={p.citations} />
          ) : null
        ) : (
          <ToolCallRow key={`t-${p.call.toolCallId}`} call={p.call} />
        ),
      )}
      {isRunWorking(run) && (
        <div className="turn-working">
          <Typing />
        </div>
      )}
      {run.status === 'interrupted' && run.interrupt && <InterruptCard interrupt={run.interrupt} call={call} actions={interruptActions?.(run)} />}
      {run.status === 'failed' && run.error && (
        <p className="run-error" data-testid="run-error" data-code={run.error.code}>
          This answer did not finish: {run.error.message}
        </p>
      )}
    </section>
  );
}

export function MessageList({
  items,
  emptyHint,
  interruptActions,
}: {
  items: TimelineItem[];
  emptyHint: string;
  /** What the user can do about a paused run's card. */
  interruptActions?: (run: RunView) => InterruptActions;
}) {
  const end = useRef<HTMLDivElement>(null);
  // Follow new content: scroll when anything in the last item changes.
  const last = items[items.length - 1];
  const lastKey =
    last?.kind === 'run'
      ? `${last.id}:${last.run.lastSeq}:${last.run.status}`
      : last
        ? `${last.kind}:${last.id}`
        : '';
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [items.length, lastKey]);

  if (items.length === 0) {
    return (
      <div className="messages messages-empty" data-testid="message-list-empty">
        <p>{emptyHint}</p>
      </div>
    );
  }
  return (
    <div className="messages" role="log" aria-live="polite" aria-label="Conversation" data-testid="message-list">
      {items.map((item) => {
        switch (item.kind) {
          case 'user':
            return <UserMessage key={`u-${item.id}`} id={item.id} content={item.content} pending={item.pending} context={item.context} />;
          case 'assistant':
            return (
              <section className="turn" aria-label="Deputy" key={`a-${item.id}`} data-testid="assistant-turn" data-run-state="completed">
                <div className="message-author">Deputy</div>
                <AssistantMessage id={item.id} content={item.content} streaming={false} citations={item.citations} />
              </section>
            );
          case 'run':
            return <RunTurn key={`r-${item.id}`} run={item.run} interruptActions={interruptActions} />;
          case 'waiting':
            return (
              <section className="turn" aria-label="Deputy" key={item.id} data-testid="assistant-turn" data-run-state="starting">
                <div className="message-author">Deputy</div>
                <div className="turn-working">
                  <Typing />
                </div>
              </section>
            );
        }
      })}
      <div ref={end} />
    </div>
  );
}
