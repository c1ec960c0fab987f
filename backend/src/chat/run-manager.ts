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
import type { ChatRequest, Citation, GateDecision, Interrupt, RunEvent } from '../../../lib/protocol';
import type { ApprovalService, ApprovedToken, Resolution } from '../agent/approvals';
import { decide, DEFAULT_LIMITS, MFA_ACR, type GateLimits } from '../agent/policy-gate';
import { canonicalJson, redactCredentials } from '../agent/redact';
import type { ResourceTokenClient } from '../agent/resource-tokens';
import { TokenVaultError, type TokenVaultClient } from '../agent/token-vault';
import { connectionLabel } from '../../../lib/connections';
import { type ToolContext, type ToolDeclaration, type ToolResult, toOpenAiTools } from '../agent/tool-declaration';
import { callDestinations, type RunProvenance } from '../agent/run-provenance';
import { modelHistory, toolResultForModel } from '../agent/provenance';
import { ApiError, notFound } from '../http/problem';
import { freshMfa } from '../auth/step-up';
import type { AuditLog } from '../store/approvals';
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
  /** Human approval (CIBA) of risky calls; without it such calls are refused. */
  approvals?: ApprovalService;
  audit?: AuditLog;
  /** Deputy's own API audience: an approved token for it may stand in for the user's token (Token Vault subject). */
  apiAudience?: string;
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
  /** Tools whose results anyone could have written: an earlier run's successful call puts untrusted content in context. */
  private readonly untrustedToolNames: string[];
  private readonly limits: GateLimits;

  constructor(private readonly deps: RunManagerDeps) {
    this.tools = new Map((deps.tools ?? []).map((t) => [t.name, t]));
    this.openAiTools = toOpenAiTools(deps.tools ?? []);
    this.untrustedToolNames = (deps.tools ?? []).filter((t) => t.resultTrust === 'untrusted').map((t) => t.name);
    this.limits = deps.limits ?? DEFAULT_LIMITS;
    deps.approvals?.setResolutionHandler((r) => this.continueAfterApproval(r));
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
    const { message } = await threads.addMessage({ sub: user.sub, threadId, role: 'user', content: req.message, clientMessageId: req.clientMessageId, context: req.context });
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
   * The trusted device answered (or the request lapsed, or the user cancelled it): the run goes on at exactly that
   * tool call, whichever instance resolved the approval. An approved call runs only with the approved token and
   * only if the approved details equal the call's (D5, D6); any other outcome fails the call closed.
   */
  async continueAfterApproval({ approval, token }: Resolution): Promise<void> {
    const { runs } = this.deps;
    const calls = await runs.toolCalls(approval.runId);
    const call = calls.find((c) => c.id === approval.toolCallId);
    if (!call || call.status !== 'interrupted') return;
    await runs.updateToolCall(approval.runId, call.id, { approval: { approvalId: approval.id, status: approval.status, argsHash: approval.argsHash } });
    if (!(await runs.claim(approval.runId, this.instanceId, ['interrupted']))) return;
    this.goLive(approval.runId, approval.sub, await runs.lastSeq(approval.runId));
    const status = approval.status as Exclude<typeof approval.status, 'pending'>;
    await this.emit(approval.runId, { type: 'approval.resolved', runId: approval.runId, toolCallId: call.id, approvalId: approval.id, status });
    await this.emit(approval.runId, { type: 'run.resumed', runId: approval.runId, toolCallId: call.id });
    const user: AgentUser = { sub: approval.sub, ...approval.userClaims };
    // An approved token for Deputy's API is the user's delegation for this run from here on (e.g. as the Token Vault
    // subject); a token for another API is used only for the approved call.
    const subject = token && this.deps.apiAudience && audiences(token.claims).includes(this.deps.apiAudience) ? token.token : undefined;
    void this.drive(approval.runId, user, subject);
  }

  /** The user withdrew a pending approval from the side panel: the call fails closed and the run goes on. */
  async cancelApproval(user: AgentUser, approvalId: string) {
    const approvals = this.deps.approvals;
    if (!approvals) throw notFound('The approval');
    const outcome = await approvals.cancel(user.sub, approvalId);
    if (!outcome.found) throw notFound('The approval');
    if (outcome.cancelled) return outcome.cancelled;
    throw new ApiError(409, 'not_pending', 'Conflict', 'That approval is no longer pending.');
  }

  /**
   * The user dealt with a `connect_required` interrupt (connected or reconnected the account) or a `step_up_required`
   * one (signed in again with a second factor): the run goes on at exactly that tool call, and the gate decides it
   * again with the connection and the token as they are now. Approvals are never answered this way.
   */
  async resume(user: AgentUser, runId: string, toolCallId: string, subjectToken?: string): Promise<void> {
    const run = await this.deps.runs.get(user.sub, runId);
    if (!run) throw notFound('The run');
    const call = (await this.deps.runs.toolCalls(runId)).find((c) => c.id === toolCallId);
    const decision = call?.decision as GateDecision | null | undefined;
    if (run.status !== 'interrupted' || call?.status !== 'interrupted' || (decision?.kind !== 'need_connection' && decision?.kind !== 'need_step_up')) {
      throw new ApiError(409, 'not_resumable', 'Conflict', 'That run is not waiting for an account to be connected or a fresh sign-in.');
    }
    // RFC 9470: only the token's own claims count (E2); a token that is not a fresh multi-factor one is challenged.
    if (decision.kind === 'need_step_up' && !freshMfa(user, decision.maxAgeSeconds)) {
      throw new StepUpRequired(decision.acrValues, decision.maxAgeSeconds);
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
      const pageContext = await threads.pageContext(user.sub, run.threadId);
      const provenance: RunProvenance = {
        userTurns: history.filter((m) => m.role === 'user').map((m) => m.content),
        untrustedBefore: history.some((m) => pageContext.has(m.id)) || (await threads.untrustedResultsBefore(user.sub, run.threadId, runId, this.untrustedToolNames)),
      };
      let modelTurns = steps.filter((s) => s.role === 'assistant').length;

      for (;;) {
        const last = steps.at(-1);
        if (last?.role === 'assistant' && last.tool_calls?.length) {
          const answered = new Set(steps.flatMap((s) => (s.role === 'tool' ? [s.tool_call_id] : [])));
          for (const tc of last.tool_calls) {
            if (answered.has(tc.id) || tc.type !== 'function') continue;
            const outcome = await this.handleToolCall(runId, user, subjectToken, tc, calls, provenance);
            if (outcome.kind === 'interrupt') {
              await this.emit(runId, { type: 'run.interrupted', runId, interrupt: outcome.interrupt });
              await runs.setStatus(runId, 'interrupted');
              return;
            }
            const step: ChatCompletionMessageParam = { role: 'tool', tool_call_id: tc.id, content: toolResultForModel(this.tools.get(tc.function.name), outcome.result) };
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
          ...modelHistory(history, pageContext),
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
    const citations = await this.citations(runId);
    const { message } = await this.deps.threads.addMessage({ id, sub, threadId, role: 'assistant', content, citations });
    void this.emit(runId, { type: 'message.completed', runId, message });
    await this.emit(runId, { type: 'run.completed', runId });
    await this.deps.runs.setStatus(runId, 'completed');
  }

  /** The sources this run's successful calls retrieved (knowledge-base documents), one per document. */
  private async citations(runId: string): Promise<Citation[]> {
    const out = new Map<string, Citation>();
    for (const call of await this.deps.runs.toolCalls(runId)) {
      const decl = this.tools.get(call.name);
      const result = call.result as ToolResult | null;
      if (call.status !== 'succeeded' || !decl?.citations || !result?.ok) continue;
      for (const c of decl.citations(result.data)) if (!out.has(c.documentId)) out.set(c.documentId, c);
    }
    return [...out.values()];
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
    provenance: RunProvenance,
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
    if (row.status === 'executing' && decl && args) {
      // The instance driving this run stopped while the call was running: run it again with the same idempotency
      // key, so the API answers with the first result instead of acting twice.
      return { kind: 'result', result: await this.execute(runId, user, subjectToken, decl, args, row) };
    }
    // The destination rule: where the call sends data that the user did not name; the approval must show it.
    const destinations = decl && args ? await callDestinations(decl, args, { sub: user.sub, calls: [...calls.values()], tools: this.tools, provenance, contacts: this.deps.threads.contacts }) : undefined;
    const description = decl && args ? destinations!.describe(decl.describe(args)) : undefined;

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
    const refusedApproval = row.approval && row.approval.status !== 'approved' && row.approval.status !== 'pending' ? row.approval.status : undefined;
    const connection = decl?.connection && args && !refusedApproval ? await this.connectionState(user, subjectToken, decl.connection) : undefined;
    if (connection && 'error' in connection) {
      const result: ToolResult = { ok: false, error: connection.error };
      await runs.updateToolCall(runId, tc.id, { status: 'failed', result });
      row.status = 'failed';
      row.result = result;
      await this.emit(runId, { type: 'tool.completed', runId, toolCallId: tc.id, ok: false, summary: result.error.message, error: result.error });
      return { kind: 'result', result };
    }
    let decision: GateDecision;
    if (refusedApproval) {
      decision = { kind: 'deny', code: `approval_${refusedApproval}`, reason: REFUSED_REASON[refusedApproval] };
    } else {
      decision = decide({
        user,
        tool: decl && { name: decl.name, tier: decl.tier, requiredScopes: decl.requiredScopes, sideEffect: decl.sideEffect, connection: decl.connection },
        argumentsValid: Boolean(args),
        run: {
          toolCalls: others.filter((c) => c.status !== 'proposed').length,
          deniedCalls: others.filter((c) => c.status === 'denied').length,
          approvalsRequested: others.filter((c) => c.approval || (c.decision as GateDecision | null)?.kind === 'need_approval').length,
          approvalsRefused: others.filter((c) => c.approval && c.approval.status !== 'approved' && c.approval.status !== 'pending').length,
          untrustedContentPresent: provenance.untrustedBefore || others.some((c) => c.status === 'succeeded' && this.tools.get(c.name)?.resultTrust === 'untrusted'),
        },
        unnamedDestinations: destinations?.unnamed,
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
      if (row.approval?.status === 'approved') {
        await this.deps.audit?.append({ sub: user.sub, kind: 'tool.refused', tool: row.name, runId, approvalId: row.approval.approvalId, argsHash: argsHash ?? undefined, summary: decision.reason });
      }
      const result: ToolResult = { ok: false, error: { code: decision.code, message: decision.reason } };
      await runs.updateToolCall(runId, tc.id, { status: 'denied', decision, result });
      row.status = 'denied';
      return { kind: 'result', result };
    }
    if (decision.kind === 'need_approval') {
      return this.requestApproval(runId, user, tc.id, decl!, description!, argsHash!, decision, row);
    }
    if (decision.kind === 'need_step_up') {
      await this.deps.audit?.append({ sub: user.sub, kind: 'step_up.required', tool: decl!.name, runId, argsHash: argsHash ?? undefined, summary: description?.summary ?? decl!.name });
    }
    if (decision.kind !== 'allow') {
      await runs.updateToolCall(runId, tc.id, { status: 'interrupted', decision });
      row.status = 'interrupted';
      row.decision = decision;
      const kind = decision.kind === 'need_step_up' ? 'step_up_required' : 'connect_required';
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
          ...(decision.kind === 'need_step_up' ? { acrValues: decision.acrValues, maxAgeSeconds: decision.maxAgeSeconds } : {}),
        },
      };
    }
    let approved: ApprovedToken | undefined;
    if (row.approval?.status === 'approved') {
      const refused = (code: string, reason: string) => this.refuse(runId, user, tc.id, decl!, argsHash!, row, code, reason);
      approved = this.deps.approvals?.takeApprovedToken(row.approval.approvalId);
      if (!approved) {
        return refused('approval_token_unavailable', 'The approval arrived, but the server restarted before the action ran (or it already ran), so nothing was done. Ask again to approve it anew.');
      }
      // D6: the details the user approved must equal, byte for byte, the details of what is about to run.
      const same = canonicalJson(approved.claims.authorization_details ?? null) === canonicalJson(description!.authorizationDetails) && approved.claims.sub === user.sub;
      if (!same) return refused('approval_mismatch', 'The approved action differs from the one about to run, so it was not run.');
    }
    await runs.updateToolCall(runId, tc.id, { status: 'executing', decision });
    row.status = 'executing';
    return { kind: 'result', result: await this.execute(runId, user, subjectToken, decl!, args!, row, approved) };
  }

  /** Starts the CIBA request for a call and pauses the run on it; if the IdP refuses, the call fails closed. */
  private async requestApproval(
    runId: string,
    user: AgentUser,
    toolCallId: string,
    decl: ToolDeclaration,
    description: ReturnType<ToolDeclaration['describe']>,
    argsHash: string,
    decision: GateDecision,
    row: ToolCallRow,
  ): Promise<Outcome> {
    const { runs, approvals } = this.deps;
    const fail = async (code: string, message: string): Promise<Outcome> => {
      const result: ToolResult = { ok: false, error: { code, message } };
      await runs.updateToolCall(runId, toolCallId, { status: 'denied', decision, result });
      row.status = 'denied';
      await this.emit(runId, { type: 'tool.completed', runId, toolCallId, ok: false, summary: message, error: result.error });
      return { kind: 'result', result };
    };
    if (!approvals) return fail('approvals_unavailable', 'Approvals are not configured on this server, so this action cannot run.');
    let approval;
    try {
      approval = await approvals.request({
        sub: user.sub,
        claims: { scopes: user.scopes, acr: user.acr, amr: user.amr, authTime: user.authTime },
        runId,
        toolCallId,
        tool: decl.name,
        audience: decl.resource?.audience ?? this.deps.apiAudience ?? '',
        scopes: decl.resource?.scopes ?? decl.requiredScopes,
        bindingMessage: description.bindingMessage,
        authorizationDetails: description.authorizationDetails,
        argsHash,
        ...(decl.tier === 'critical' ? { acrValues: MFA_ACR } : {}),
      });
    } catch (err) {
      this.deps.log?.(`run ${runId}: approval request refused (${err instanceof Error ? err.message : 'unknown'})`);
      return fail('approval_unavailable', 'The approval request could not be sent to your device, so this action did not run.');
    }
    await runs.updateToolCall(runId, toolCallId, { status: 'interrupted', decision, approval: { approvalId: approval.id, status: 'pending', argsHash } });
    row.status = 'interrupted';
    row.decision = decision;
    return {
      kind: 'interrupt',
      interrupt: {
        kind: 'approval_pending',
        toolCallId,
        reason: decision.kind === 'need_approval' ? decision.reason : 'This action needs your approval.',
        bindingMessage: approval.bindingMessage,
        authorizationDetails: approval.authorizationDetails,
        approvalId: approval.id,
        expiresAt: approval.expiresAt.toISOString(),
      },
    };
  }

  /** A call that will not run after all (its approval does not hold): recorded, audited, and told to the model. */
  private async refuse(runId: string, user: AgentUser, toolCallId: string, decl: ToolDeclaration, argsHash: string, row: ToolCallRow, code: string, reason: string): Promise<Outcome> {
    const decision: GateDecision = { kind: 'deny', code, reason };
    const result: ToolResult = { ok: false, error: { code, message: reason } };
    await this.emit(runId, { type: 'tool.decided', runId, toolCallId, decision });
    await this.deps.runs.updateToolCall(runId, toolCallId, { status: 'denied', decision, result });
    row.status = 'denied';
    await this.deps.audit?.append({ sub: user.sub, kind: 'tool.refused', tool: decl.name, runId, approvalId: row.approval?.approvalId, argsHash, summary: reason });
    return { kind: 'result', result };
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

  private async execute(
    runId: string,
    user: AgentUser,
    subjectToken: string | undefined,
    decl: ToolDeclaration,
    args: Record<string, unknown>,
    row: ToolCallRow,
    approved?: ApprovedToken,
  ): Promise<ToolResult> {
    // The approved token is the credential for its own API (the API checks its authorization_details itself).
    const approvedFor = (audience: string | undefined) => (approved && audience && audiences(approved.claims).includes(audience) ? approved.token : undefined);
    const subject = approvedFor(this.deps.apiAudience) ?? subjectToken;
    const ctx: ToolContext = {
      sub: user.sub,
      runId,
      toolCallId: row.id,
      idempotencyKey: row.idempotencyKey,
      getResourceToken: async () => {
        if (!decl.resource) throw new ToolAuthError(`${decl.name} declares no resource API.`);
        const approvedToken = approvedFor(decl.resource.audience);
        if (approvedToken) return approvedToken;
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
        if (!subject || !vault) throw new ToolAuthError('No delegated access is available for this run. Send your message again.');
        if (fresh) vault.invalidate(user.sub, decl.connection.name);
        try {
          const got = await vault.get(subject, user.sub, decl.connection.name, decl.connection.scopes);
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
    // Once data went somewhere on the user's word or approval, that destination is one of the user's contacts.
    if (result.ok && decl.destinations) await this.deps.threads.contacts.add(user.sub, decl.destinations(args), approved ? 'approved' : 'named').catch(() => {});
    await this.deps.runs.updateToolCall(runId, row.id, { status: result.ok ? 'succeeded' : 'failed', result });
    if (decl.sideEffect || approved) {
      await this.deps.audit?.append({
        sub: user.sub,
        kind: 'tool.executed',
        tool: decl.name,
        runId,
        approvalId: row.approval?.approvalId,
        argsHash: row.argsHash ?? undefined,
        summary: `${decl.describe(args).summary}: ${result.ok ? (decl.outcome?.(result.data) ?? 'done') : `failed (${result.error.code})`}`,
      });
    }
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

/** RFC 9470: the token is not a fresh enough multi-factor one. The API layer answers 401 with the challenge. */
export class StepUpRequired extends ApiError {
  constructor(readonly acrValues: string, readonly maxAgeSeconds: number) {
    super(401, 'insufficient_user_authentication', 'Unauthorized', 'This action needs a fresh sign-in with a second factor.');
  }
}

const REFUSED_REASON: Record<string, string> = {
  denied: 'You denied this action on your device, so it did not run.',
  expired: 'The approval request expired without an answer, so the action did not run.',
  cancelled: 'You cancelled the approval request, so the action did not run.',
};

const audiences = (claims: { aud?: string | string[] }) => (Array.isArray(claims.aud) ? claims.aud : claims.aud ? [claims.aud] : []);

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
