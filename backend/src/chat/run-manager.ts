/**
 * The agent runtime. A run starts from a user turn and lives on its own: the model proposes (streamed tool calls
 * through the `openai` SDK), the policy gate decides each call, allowed calls execute, results go back to the
 * model, and the answer streams out. Every event, step and tool call is persisted, so a run keeps going when the
 * client leaves, survives a backend restart (it resumes when a client of the user re-attaches), pauses on an
 * interrupt and resumes at exactly that tool call, and never executes a side-effecting call twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type OpenAI from 'openai';
import { APIError } from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionMessageToolCall, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ChatRequest, GateDecision, Interrupt, RunEvent } from '../../../lib/protocol';
import { decide, DEFAULT_LIMITS, type GateLimits } from '../agent/policy-gate';
import { canonicalJson, redactCredentials } from '../agent/redact';
import type { ResourceTokenClient } from '../agent/resource-tokens';
import { TokenVaultError, type TokenVaultClient } from '../agent/token-vault';
import { connectionLabel } from '../../../lib/connections';
import { type ToolContext, type ToolDeclaration, type ToolResult, toOpenAiTools } from '../agent/tool-declaration';
import { ApiError, notFound } from '../http/problem';
import type { RunStore, StoredRunEvent, ToolCallRow } from '../store/runs';
import type { ThreadStore } from '../store/threads';
import { systemPrompt } from './system-prompt';

export type SequencedEvent = StoredRunEvent;

/** What the runtime knows about the user: the verified token's claims, never the model's say-so. */
export interface AgentUser {
  sub: string;
  scopes: string[];
  acr?: string;
  amr?: string[];
  authTime?: number;
}

export interface RunManagerDeps {
  threads: ThreadStore;
  runs: RunStore;
  model: OpenAI;
  modelName: string;
  tools?: ToolDeclaration[];
  resourceTokens?: ResourceTokenClient;
  /** Third-party tokens for tools that declare a connection. */
  tokenVault?: TokenVaultClient;
  limits?: GateLimits;
  log?: (line: string) => void;
}

interface LiveRun {
  sub: string;
  emitter: EventEmitter;
  seq: number;
  chain: Promise<void>;
  flushing: boolean;
  pending: Array<{ seq: number; event: RunEvent; resolve: () => void; reject: (err: unknown) => void }>;
  done: boolean;
}

const HISTORY_LIMIT = 40;
const MAX_MODEL_TURNS = 8;

type Outcome = { kind: 'result'; result: ToolResult } | { kind: 'interrupt'; interrupt: Interrupt };

type ConnectionState = { connected: boolean; grantedScopes: string[] } | { error: { code: string; message: string } };

export class RunManager {
  private readonly live = new Map<string, LiveRun>();
  private readonly instanceId = randomUUID();
  private readonly tools: Map<string, ToolDeclaration>;
  private readonly openAiTools: ChatCompletionTool[];
  private readonly limits: GateLimits;

  constructor(private readonly deps: RunManagerDeps) {
    this.tools = new Map((deps.tools ?? []).map((t) => [t.name, t]));
    this.openAiTools = toOpenAiTools(deps.tools ?? []);
    this.limits = deps.limits ?? DEFAULT_LIMITS;
  }

  /** Stores the user's turn and starts the run in the background. */
  async start(user: AgentUser, req: ChatRequest, subjectToken?: string): Promise<{ runId: string; threadId: string }> {
    const { threads, runs } = this.deps;
    let threadId = req.threadId;
    if (threadId) {
      if (!(await threads.getThread(user.sub, threadId))) throw notFound('The conversation');
    } else {
      threadId = (await threads.createThread(user.sub, titleFrom(req.message))).id;
    }
    const { message } = await threads.addMessage({ sub: user.sub, threadId, role: 'user', content: req.message, clientMessageId: req.clientMessageId });
    if (message.threadId !== threadId) {
      throw new ApiError(409, 'client_message_id_conflict', 'Conflict', 'That clientMessageId was already used in another conversation.');
    }
    const runId = randomUUID();
    await runs.create({ id: runId, sub: user.sub, threadId, model: this.deps.modelName, userMessageId: message.id, leaseOwner: this.instanceId });
    this.goLive(runId, user.sub, 0);
    this.emit(runId, { type: 'run.started', runId, threadId, userMessageId: message.id, model: this.deps.modelName });
    void this.drive(runId, user, subjectToken);
    return { runId, threadId };
  }

  /**
   * A client of the user re-attached. If the run was orphaned (its instance stopped mid-run), take it over and
   * continue with the re-attaching client's fresh token.
   */
  async reattach(user: AgentUser, runId: string, subjectToken?: string): Promise<void> {
    if (this.live.has(runId)) return;
    const run = await this.deps.runs.get(user.sub, runId);
    if (!run || run.status !== 'running') return;
    if (!(await this.deps.runs.claim(runId, this.instanceId))) return;
    this.goLive(runId, user.sub, await this.deps.runs.lastSeq(runId));
    void this.drive(runId, user, subjectToken);
  }

  /**
   * Records the user's answer to an approval interrupt and resumes the run at exactly that tool call. The approval
   * binds to the hash of the arguments the user saw; different arguments will not run (D6).
   */
  async resolveApproval(user: AgentUser, runId: string, toolCallId: string, answer: { approved: boolean; argsHash: string }, subjectToken?: string) {
    const run = await this.deps.runs.get(user.sub, runId);
    if (!run) throw notFound('The run');
    const call = (await this.deps.runs.toolCalls(runId)).find((c) => c.id === toolCallId);
    if (!call || call.status !== 'interrupted') throw new ApiError(409, 'not_pending', 'Conflict', 'That tool call is not waiting for approval.');
    await this.deps.runs.updateToolCall(runId, toolCallId, { approval: { status: answer.approved ? 'approved' : 'declined', argsHash: answer.argsHash } });
    if (!(await this.deps.runs.claim(runId, this.instanceId, ['interrupted']))) return;
    this.goLive(runId, user.sub, await this.deps.runs.lastSeq(runId));
    void this.drive(runId, user, subjectToken);
  }

  /**
   * The user dealt with a `connect_required` interrupt (connected or reconnected the account): the run goes on at
   * exactly that tool call, and the gate decides it again with the connection as it is now. Approvals are never
   * answered this way.
   */
  async resume(user: AgentUser, runId: string, toolCallId: string, subjectToken?: string): Promise<void> {
    const run = await this.deps.runs.get(user.sub, runId);
    if (!run) throw notFound('The run');
    const call = (await this.deps.runs.toolCalls(runId)).find((c) => c.id === toolCallId);
    const decision = call?.decision as GateDecision | null | undefined;
    if (run.status !== 'interrupted' || call?.status !== 'interrupted' || decision?.kind !== 'need_connection') {
      throw new ApiError(409, 'not_resumable', 'Conflict', 'That run is not waiting for an account to be connected.');
    }
    if (!(await this.deps.runs.claim(runId, this.instanceId, ['interrupted']))) return;
    this.goLive(runId, user.sub, await this.deps.runs.lastSeq(runId));
    await this.emit(runId, { type: 'run.resumed', runId, toolCallId });
    void this.drive(runId, user, subjectToken);
  }

  /**
   * Events of a run after `afterSeq`, until the run ends or pauses. Live runs of this instance are followed
   * through memory; a run driven by another instance (or orphaned by one that stopped) is followed through the
   * store, and `takeOver` is tried so that an orphaned run continues here.
   */
  async *follow(sub: string, runId: string, afterSeq = 0, signal?: AbortSignal, takeOver?: () => Promise<void>): AsyncGenerator<SequencedEvent> {
    let last = afterSeq;
    while (!signal?.aborted) {
      const run = this.live.get(runId);
      if (run && run.sub !== sub) throw notFound('The run');
      if (run && !run.done) {
        yield* this.followLive(run, sub, runId, last, signal, (seq) => (last = seq));
        continue;
      }
      const stored = await this.deps.runs.listEvents(sub, runId, last);
      if (stored === undefined) throw notFound('The run');
      for (const e of stored) {
        last = e.seq;
        yield e;
      }
      if (this.live.has(runId)) continue;
      const status = (await this.deps.runs.get(sub, runId))?.status;
      if (status !== 'running') {
        // Ended or paused: pick up anything written between the two reads, then stop.
        for (const e of (await this.deps.runs.listEvents(sub, runId, last)) ?? []) yield e;
        return;
      }
      await takeOver?.();
      if (!this.live.has(runId)) await sleep(250, signal);
    }
  }

  private async *followLive(run: LiveRun, sub: string, runId: string, after: number, signal: AbortSignal | undefined, seen: (seq: number) => void): AsyncGenerator<SequencedEvent> {
    const buffered: SequencedEvent[] = [];
    let wake: (() => void) | undefined;
    const onEvent = (e: SequencedEvent) => {
      buffered.push(e);
      wake?.();
    };
    run.emitter.on('event', onEvent);
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      let last = after;
      for (const e of (await this.deps.runs.listEvents(sub, runId, after)) ?? []) {
        last = e.seq;
        seen(last);
        yield e;
      }
      while (!signal?.aborted) {
        const next = buffered.shift();
        if (!next) {
          if (run.done) return;
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        if (next.seq <= last) continue;
        last = next.seq;
        seen(last);
        yield next;
      }
    } finally {
      run.emitter.off('event', onEvent);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Resolves when every run driven by this instance has stopped (graceful shutdown, tests). */
  async drain(): Promise<void> {
    while (this.live.size > 0) await new Promise((r) => setTimeout(r, 20));
  }

  private goLive(runId: string, sub: string, seq: number) {
    const emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    this.live.set(runId, { sub, emitter, seq, chain: Promise.resolve(), flushing: false, pending: [], done: false });
  }

  /**
   * Persists the event, then delivers it to followers. Events that arrive while a write is in flight are written
   * together in one statement (a streamed answer is dozens of deltas), still in order and gapless.
   */
  private emit(runId: string, event: RunEvent): Promise<void> {
    const run = this.live.get(runId);
    if (!run) return Promise.resolve();
    const seq = ++run.seq;
    const persisted = new Promise<void>((resolve, reject) => run.pending.push({ seq, event, resolve, reject }));
    if (!run.flushing) {
      run.flushing = true;
      run.chain = this.flush(runId, run);
    }
    return persisted;
  }

  private async flush(runId: string, run: LiveRun): Promise<void> {
    while (run.pending.length > 0) {
      const batch = run.pending.splice(0);
      try {
        await this.deps.runs.appendEvents(runId, batch);
        for (const b of batch) {
          run.emitter.emit('event', { seq: b.seq, event: b.event } satisfies SequencedEvent);
          b.resolve();
        }
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    run.flushing = false;
  }

  private async drive(runId: string, user: AgentUser, subjectToken: string | undefined): Promise<void> {
    const { threads, runs } = this.deps;
    const lease = setInterval(() => void runs.renewLease(runId, this.instanceId).catch(() => {}), 5_000);
    try {
      const run = (await runs.get(user.sub, runId))!;
      const all = await threads.listMessages(user.sub, run.threadId);
      const upTo = all.findIndex((m) => m.id === run.userMessageId);
      const history = (upTo >= 0 ? all.slice(0, upTo + 1) : all).slice(-HISTORY_LIMIT);
      const steps = (await runs.steps(runId)) as ChatCompletionMessageParam[];
      const calls = new Map((await runs.toolCalls(runId)).map((c) => [c.id, c]));
      let modelTurns = steps.filter((s) => s.role === 'assistant').length;

      for (;;) {
        const last = steps.at(-1);
        if (last?.role === 'assistant' && last.tool_calls?.length) {
          const answered = new Set(steps.flatMap((s) => (s.role === 'tool' ? [s.tool_call_id] : [])));
          for (const tc of last.tool_calls) {
            if (answered.has(tc.id) || tc.type !== 'function') continue;
            const outcome = await this.handleToolCall(runId, user, subjectToken, tc, calls);
            if (outcome.kind === 'interrupt') {
              await this.emit(runId, { type: 'run.interrupted', runId, interrupt: outcome.interrupt });
              await runs.setStatus(runId, 'interrupted');
              return;
            }
            const step: ChatCompletionMessageParam = { role: 'tool', tool_call_id: tc.id, content: JSON.stringify(outcome.result) };
            await runs.appendStep(runId, steps.length, step);
            steps.push(step);
          }
        }

        if (modelTurns >= MAX_MODEL_TURNS) {
          await this.finishWithMessage(runId, user.sub, run.threadId, 'I stopped here: this request reached the limit of steps one request may take.');
          return;
        }
        modelTurns++;
        const turn = await this.modelTurn(runId, [
          { role: 'system', content: systemPrompt(new Date()) },
          ...history.map((m) => ({ role: m.role, content: m.content }) as ChatCompletionMessageParam),
          ...steps,
        ]);
        if (turn.toolCalls.length > 0) {
          if (turn.content.trim()) {
            const { message } = await threads.addMessage({ id: turn.messageId, sub: user.sub, threadId: run.threadId, role: 'assistant', content: turn.content });
            void this.emit(runId, { type: 'message.completed', runId, message });
          }
          const step: ChatCompletionMessageParam = { role: 'assistant', content: turn.content || null, tool_calls: turn.toolCalls };
          await runs.appendStep(runId, steps.length, step);
          steps.push(step);
          continue;
        }
        await this.finishWithMessage(runId, user.sub, run.threadId, turn.content, turn.messageId);
        return;
      }
    } catch (err) {
      const error = describeRunError(err);
      this.deps.log?.(`run ${runId} failed: ${error.code}`);
      await this.emit(runId, { type: 'run.failed', runId, error }).catch(() => {});
      await runs.setStatus(runId, 'failed', error.code).catch(() => {});
    } finally {
      clearInterval(lease);
      const live = this.live.get(runId);
      while (live?.flushing) await live.chain.catch(() => {});
      this.live.delete(runId);
      if (live) {
        live.done = true;
        live.emitter.emit('event', { seq: -1, event: { type: 'run.completed', runId } });
      }
    }
  }

  /** Stores the run's final answer (under the id its deltas streamed with, if any) and completes the run. */
  private async finishWithMessage(runId: string, sub: string, threadId: string, content: string, id?: string) {
    const { message } = await this.deps.threads.addMessage({ id, sub, threadId, role: 'assistant', content });
    void this.emit(runId, { type: 'message.completed', runId, message });
    await this.emit(runId, { type: 'run.completed', runId });
    await this.deps.runs.setStatus(runId, 'completed');
  }

  /** One streamed model call: text deltas go out as they come; tool-call fragments are assembled by index. */
  private async modelTurn(runId: string, messages: ChatCompletionMessageParam[]) {
    const stream = await this.deps.model.chat.completions.create({
      model: this.deps.modelName,
      stream: true,
      messages,
      ...(this.openAiTools.length ? { tools: this.openAiTools } : {}),
    });
    const messageId = randomUUID();
    let content = '';
    const parts = new Map<number, { id: string; name: string; args: string }>();
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      if (!delta) continue;
      if (delta.content) {
        content += delta.content;
        void this.emit(runId, { type: 'message.delta', runId, messageId, delta: delta.content });
      }
      for (const tc of delta.tool_calls ?? []) {
        const p = parts.get(tc.index) ?? { id: '', name: '', args: '' };
        if (tc.id) p.id = tc.id;
        if (tc.function?.name) p.name += tc.function.name;
        if (tc.function?.arguments) p.args += tc.function.arguments;
        parts.set(tc.index, p);
      }
    }
    const toolCalls: ChatCompletionMessageToolCall[] = [...parts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([i, p]) => ({ id: p.id || `call_${runId.slice(0, 8)}_${i}`, type: 'function', function: { name: p.name, arguments: p.args } }));
    return { messageId, content, toolCalls };
  }

  private async handleToolCall(
    runId: string,
    user: AgentUser,
    subjectToken: string | undefined,
    tc: Extract<ChatCompletionMessageToolCall, { type: 'function' }>,
    calls: Map<string, ToolCallRow>,
  ): Promise<Outcome> {
    const { runs } = this.deps;
    const decl = this.tools.get(tc.function.name);
    let row = calls.get(tc.id);
    if (row && (row.status === 'succeeded' || row.status === 'failed' || row.status === 'denied')) {
      return { kind: 'result', result: row.result as ToolResult };
    }

    let raw: unknown;
    try {
      raw = JSON.parse(tc.function.arguments || '{}');
    } catch {
      raw = undefined;
    }
    const parsed = decl?.input.safeParse(raw);
    const args = parsed?.success ? (parsed.data as Record<string, unknown>) : undefined;
    const argsHash = args ? argumentsHash(args) : null;
    if (!row) {
      const fresh = { id: tc.id, name: tc.function.name.slice(0, 100), arguments: args ?? null, argsHash, tier: decl?.tier ?? null, idempotencyKey: randomUUID() };
      await runs.insertToolCall(runId, user.sub, fresh);
      row = { ...fresh, status: 'proposed', decision: null, approval: null, result: null };
      calls.set(tc.id, row);
    }
    const description = decl && args ? decl.describe(args) : undefined;

    if (row.status === 'executing' && decl && args) {
      // The instance driving this run stopped while the call was running: run it again with the same idempotency
      // key, so the API answers with the first result instead of acting twice.
      return { kind: 'result', result: await this.execute(runId, user, subjectToken, decl, args, row) };
    }

    await this.emit(runId, {
      type: 'tool.proposed',
      runId,
      call: {
        toolCallId: tc.id,
        name: decl ? decl.name : 'unknown tool',
        ...(decl ? { tier: decl.tier } : {}),
        arguments: args ?? {},
        summary: description?.summary ?? (decl ? `${decl.name} (invalid arguments)` : 'A tool that does not exist'),
      },
    });

    const others = [...calls.values()].filter((c) => c.id !== tc.id);
    const connection = decl?.connection && args && row.approval?.status !== 'declined' ? await this.connectionState(user, subjectToken, decl.connection) : undefined;
    if (connection && 'error' in connection) {
      const result: ToolResult = { ok: false, error: connection.error };
      await runs.updateToolCall(runId, tc.id, { status: 'failed', result });
      row.status = 'failed';
      row.result = result;
      await this.emit(runId, { type: 'tool.completed', runId, toolCallId: tc.id, ok: false, summary: result.error.message, error: result.error });
      return { kind: 'result', result };
    }
    let decision: GateDecision;
    if (row.approval?.status === 'declined') {
      decision = { kind: 'deny', code: 'approval_declined', reason: 'You declined this action, so it did not run.' };
    } else {
      decision = decide({
        user,
        tool: decl && { name: decl.name, tier: decl.tier, requiredScopes: decl.requiredScopes, sideEffect: decl.sideEffect, connection: decl.connection },
        argumentsValid: Boolean(args),
        run: {
          toolCalls: others.filter((c) => c.status !== 'proposed').length,
          deniedCalls: others.filter((c) => c.status === 'denied').length,
          approvalsRequested: others.filter((c) => c.approval || (c.decision as GateDecision | null)?.kind === 'need_approval').length,
          untrustedContentPresent: others.some((c) => c.status === 'succeeded' && this.tools.get(c.name)?.resultTrust === 'untrusted'),
        },
        // Only side-effecting or high-tier calls can need approval; the rest skip the query.
        userApprovalsLastHour: decl && (decl.sideEffect || decl.tier === 'high' || decl.tier === 'critical') ? await runs.approvalsRequestedSince(user.sub, new Date(Date.now() - 3_600_000)) : 0,
        connection,
        approval: row.approval?.status === 'approved' ? { status: 'approved', argumentsMatch: row.approval.argsHash === argsHash } : undefined,
        nowSeconds: Math.floor(Date.now() / 1000),
        limits: this.limits,
      });
    }
    await this.emit(runId, { type: 'tool.decided', runId, toolCallId: tc.id, decision });

    if (decision.kind === 'deny') {
      const result: ToolResult = { ok: false, error: { code: decision.code, message: decision.reason } };
      await runs.updateToolCall(runId, tc.id, { status: 'denied', decision, result });
      row.status = 'denied';
      return { kind: 'result', result };
    }
    if (decision.kind !== 'allow') {
      await runs.updateToolCall(runId, tc.id, { status: 'interrupted', decision });
      row.status = 'interrupted';
      row.decision = decision;
      const kind = decision.kind === 'need_approval' ? 'approval_required' : decision.kind === 'need_step_up' ? 'step_up_required' : 'connect_required';
      return {
        kind: 'interrupt',
        interrupt: {
          kind,
          toolCallId: tc.id,
          reason: decision.reason,
          ...(description ? { bindingMessage: description.bindingMessage, authorizationDetails: description.authorizationDetails } : {}),
          // Reconnecting asks for what the account already granted plus what this call needs, so nothing is lost.
          ...(decision.kind === 'need_connection'
            ? { connection: decision.connection, scopes: [...new Set([...(connection?.grantedScopes ?? []), ...decision.scopes])] }
            : {}),
        },
      };
    }
    await runs.updateToolCall(runId, tc.id, { status: 'executing', decision });
    row.status = 'executing';
    return { kind: 'result', result: await this.execute(runId, user, subjectToken, decl!, args!, row) };
  }

  /** Is the tool's connection there, with which scopes? Asked of Token Vault with the user's token, never assumed. */
  private async connectionState(user: AgentUser, subjectToken: string | undefined, connection: { name: string; scopes: string[] }): Promise<ConnectionState> {
    const vault = this.deps.tokenVault;
    if (!vault) return { error: { code: 'connections_unavailable', message: 'Connected accounts are not configured on this server.' } };
    if (!subjectToken) return { error: { code: 'authorization_failed', message: 'No delegated access is available for this run. Send your message again.' } };
    try {
      const got = await vault.get(subjectToken, user.sub, connection.name, connection.scopes);
      return got.status === 'connected' ? { connected: true, grantedScopes: got.scopes } : { connected: false, grantedScopes: [] };
    } catch (err) {
      const message = err instanceof TokenVaultError ? err.message : 'Access to the connected account could not be obtained.';
      return { error: { code: err instanceof TokenVaultError ? err.code : 'authorization_failed', message } };
    }
  }

  private async execute(runId: string, user: AgentUser, subjectToken: string | undefined, decl: ToolDeclaration, args: Record<string, unknown>, row: ToolCallRow): Promise<ToolResult> {
    const ctx: ToolContext = {
      sub: user.sub,
      runId,
      toolCallId: row.id,
      idempotencyKey: row.idempotencyKey,
      getResourceToken: async () => {
        if (!decl.resource) throw new ToolAuthError(`${decl.name} declares no resource API.`);
        if (!subjectToken || !this.deps.resourceTokens) throw new ToolAuthError('No delegated access is available for this run. Send your message again.');
        try {
          return (await this.deps.resourceTokens.get(subjectToken, user.sub, decl.resource.audience, decl.resource.scopes)).token;
        } catch (err) {
          throw new ToolAuthError(err instanceof Error ? err.message : 'Access could not be obtained.');
        }
      },
      getConnectionToken: async ({ fresh } = {}) => {
        const vault = this.deps.tokenVault;
        if (!decl.connection) throw new ToolAuthError(`${decl.name} declares no connection.`);
        if (!subjectToken || !vault) throw new ToolAuthError('No delegated access is available for this run. Send your message again.');
        if (fresh) vault.invalidate(user.sub, decl.connection.name);
        try {
          const got = await vault.get(subjectToken, user.sub, decl.connection.name, decl.connection.scopes);
          if (got.status === 'connected') return got.token;
        } catch (err) {
          throw new ToolAuthError(err instanceof Error ? err.message : 'Access could not be obtained.');
        }
        throw new ToolAuthError(`Your ${connectionLabel(decl.connection.name)} account is no longer connected. Connect it again.`);
      },
    };
    let result: ToolResult;
    try {
      result = await decl.execute(args, ctx);
    } catch (err) {
      result = err instanceof ToolAuthError
        ? { ok: false, error: { code: 'authorization_failed', message: err.message } }
        : { ok: false, error: { code: 'tool_failed', message: `${decl.name} failed unexpectedly.` } };
    }
    result = redactCredentials(result);
    await this.deps.runs.updateToolCall(runId, row.id, { status: result.ok ? 'succeeded' : 'failed', result });
    row.status = result.ok ? 'succeeded' : 'failed';
    row.result = result;
    await this.emit(runId, {
      type: 'tool.completed',
      runId,
      toolCallId: row.id,
      ok: result.ok,
      summary: result.ok ? (decl.outcome?.(result.data) ?? 'Done') : result.error.message,
      ...(result.ok ? {} : { error: result.error }),
    });
    return result;
  }
}

class ToolAuthError extends Error {}

function sleep(ms: number, signal?: AbortSignal) {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function argumentsHash(args: Record<string, unknown>): string {
  return sha256(canonicalJson(args));
}

function titleFrom(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
}

/** A message for the user that never carries the provider's raw error text (it can echo keys or prompts). */
function describeRunError(err: unknown): { code: string; message: string } {
  if (err instanceof APIError) {
    if (err.status === 401 || err.status === 403) return { code: 'model_auth_failed', message: 'The model service refused our credentials. Check OPENAI_API_KEY.' };
    if (err.status === 429) return { code: 'model_rate_limited', message: 'The model service is rate-limiting us. Try again in a moment.' };
    if (err.status === undefined) return { code: 'model_unreachable', message: 'The model service could not be reached. Check OPENAI_BASE_URL.' };
    return { code: 'model_error', message: `The model service answered with status ${err.status}.` };
  }
  return { code: 'run_failed', message: 'The run failed unexpectedly. Try again.' };
}
