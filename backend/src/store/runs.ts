/**
 * Durable run state: the run row (with a lease so only one backend instance drives a run at a time), its event
 * log, its model-facing transcript (steps), and its tool calls with their decisions and results.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { ApprovalStatus, RunEvent } from '../../../lib/protocol';
import type { Database, ToolCallStatus } from './schema';

export interface StoredRunEvent {
  seq: number;
  event: RunEvent;
}

export interface RunRow {
  id: string;
  sub: string;
  threadId: string;
  status: 'running' | 'interrupted' | 'completed' | 'failed';
  model: string;
  userMessageId: string | null;
}

export interface ToolCallRow {
  id: string;
  name: string;
  arguments: Record<string, unknown> | null;
  argsHash: string | null;
  tier: string | null;
  status: ToolCallStatus;
  decision: unknown;
  /** The human approval of this call, once one was requested. */
  approval: { approvalId: string; status: ApprovalStatus; argsHash: string } | null;
  idempotencyKey: string;
  result: unknown;
}

const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

export class RunStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(r: { id: string; sub: string; threadId: string; model: string; userMessageId: string; leaseOwner: string }) {
    await this.db
      .insertInto('runs')
      .values({
        id: r.id, user_sub: r.sub, thread_id: r.threadId, model: r.model, status: 'running', error_code: null, finished_at: null,
        user_message_id: r.userMessageId, lease_owner: r.leaseOwner, lease_until: sql`now() + interval '15 seconds'` as never,
      })
      .execute();
  }

  async get(sub: string, runId: string): Promise<RunRow | undefined> {
    const r = await this.db.selectFrom('runs').selectAll().where('id', '=', runId).where('user_sub', '=', sub).executeTakeFirst();
    return r && { id: r.id, sub: r.user_sub, threadId: r.thread_id, status: r.status, model: r.model, userMessageId: r.user_message_id };
  }

  async owns(sub: string, runId: string): Promise<boolean> {
    return (await this.get(sub, runId)) !== undefined;
  }

  /**
   * Takes the run's lease if nobody holds a live one. Only the holder drives the run, so two instances (or a
   * restarted one and a re-attaching client) never execute the same step twice.
   */
  async claim(runId: string, owner: string, statuses: RunRow['status'][] = ['running']): Promise<boolean> {
    const r = await this.db
      .updateTable('runs')
      .set({ lease_owner: owner, lease_until: sql`now() + interval '15 seconds'` as never, status: 'running' })
      .where('id', '=', runId)
      .where('status', 'in', statuses)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now()`), eb('lease_owner', '=', owner)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async renewLease(runId: string, owner: string) {
    await this.db.updateTable('runs').set({ lease_until: sql`now() + interval '15 seconds'` as never }).where('id', '=', runId).where('lease_owner', '=', owner).execute();
  }

  async setStatus(runId: string, status: RunRow['status'], errorCode?: string) {
    const ended = status === 'completed' || status === 'failed';
    await this.db
      .updateTable('runs')
      .set({ status, error_code: errorCode ?? null, lease_owner: null, lease_until: null, ...(ended ? { finished_at: new Date() } : {}) })
      .where('id', '=', runId)
      .execute();
  }

  async lastSeq(runId: string): Promise<number> {
    const r = await this.db.selectFrom('run_events').select((eb) => eb.fn.max('seq').as('max')).where('run_id', '=', runId).executeTakeFirst();
    return Number(r?.max ?? 0);
  }

  async appendEvents(runId: string, events: Array<{ seq: number; event: RunEvent }>): Promise<void> {
    if (events.length === 0) return;
    await this.db
      .insertInto('run_events')
      .values(events.map(({ seq, event }) => ({ run_id: runId, seq, type: event.type, data: JSON.stringify(event) })))
      .execute();
  }

  /** Events of the user's run after `afterSeq`; undefined when the run does not exist or is not theirs. */
  async listEvents(sub: string, runId: string, afterSeq: number): Promise<StoredRunEvent[] | undefined> {
    if (!(await this.owns(sub, runId))) return undefined;
    const rows = await this.db
      .selectFrom('run_events')
      .select(['seq', 'data'])
      .where('run_id', '=', runId)
      .where('seq', '>', afterSeq)
      .orderBy('seq', 'asc')
      .execute();
    return rows.map((r) => ({ seq: r.seq, event: json(r.data) as RunEvent }));
  }

  async steps(runId: string): Promise<unknown[]> {
    const rows = await this.db.selectFrom('run_steps').select(['message']).where('run_id', '=', runId).orderBy('idx', 'asc').execute();
    return rows.map((r) => json(r.message));
  }

  async appendStep(runId: string, idx: number, message: unknown) {
    await this.db.insertInto('run_steps').values({ run_id: runId, idx, message: JSON.stringify(message) }).execute();
  }

  async toolCalls(runId: string): Promise<ToolCallRow[]> {
    const rows = await this.db.selectFrom('tool_calls').selectAll().where('run_id', '=', runId).orderBy('created_at', 'asc').execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      arguments: json(r.arguments) as Record<string, unknown> | null,
      argsHash: r.args_hash,
      tier: r.tier,
      status: r.status,
      decision: json(r.decision),
      approval: json(r.approval) as ToolCallRow['approval'],
      idempotencyKey: r.idempotency_key,
      result: json(r.result),
    }));
  }

  async insertToolCall(runId: string, sub: string, c: { id: string; name: string; arguments: unknown; argsHash: string | null; tier: string | null; idempotencyKey: string }) {
    await this.db
      .insertInto('tool_calls')
      .values({
        run_id: runId, user_sub: sub, id: c.id, name: c.name, arguments: c.arguments === null ? null : JSON.stringify(c.arguments),
        args_hash: c.argsHash, tier: c.tier, status: 'proposed', idempotency_key: c.idempotencyKey, decision: null, approval: null, result: null,
      })
      .onConflict((oc) => oc.columns(['run_id', 'id']).doNothing())
      .execute();
  }

  async updateToolCall(runId: string, id: string, patch: { status?: ToolCallStatus; decision?: unknown; result?: unknown; approval?: unknown }) {
    await this.db
      .updateTable('tool_calls')
      .set({
        updated_at: new Date(),
        ...(patch.status ? { status: patch.status } : {}),
        ...(patch.decision !== undefined ? { decision: JSON.stringify(patch.decision) } : {}),
        ...(patch.result !== undefined ? { result: JSON.stringify(patch.result) } : {}),
        ...(patch.approval !== undefined ? { approval: JSON.stringify(patch.approval) } : {}),
      })
      .where('run_id', '=', runId)
      .where('id', '=', id)
      .execute();
  }

  /** Approval requests this user caused in the last hour, across runs (G4). */
  async approvalsRequestedSince(sub: string, since: Date): Promise<number> {
    const r = await this.db
      .selectFrom('tool_calls')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('user_sub', '=', sub)
      .where('created_at', '>=', since)
      .where(sql<boolean>`decision->>'kind' = 'need_approval'`)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }
}
