/**
 * Human approvals (CIBA requests) as durable jobs, and the user's audit trail. A pending approval is a row any
 * backend instance may claim when its next poll is due; the lease keeps two instances from polling the same request.
 */
import { type Kysely, sql } from 'kysely';
import type { ApprovalStatus, ApprovalView, AuditEntry } from '../../../lib/protocol';
import type { ApprovalsTable, Database } from './schema';

/** The verified claims an approval was requested under: enough to decide the call again, never a credential. */
export interface ClaimsSnapshot {
  scopes: string[];
  acr?: string;
  amr?: string[];
  authTime?: number;
}

export interface Approval {
  id: string;
  sub: string;
  runId: string;
  toolCallId: string;
  tool: string;
  audience: string;
  bindingMessage: string;
  authorizationDetails: Array<Record<string, unknown>>;
  argsHash: string;
  userClaims: ClaimsSnapshot;
  authReqId: string;
  status: ApprovalStatus;
  intervalSeconds: number;
  nextPollAt: Date;
  expiresAt: Date;
  approver: string | null;
  createdAt: Date;
  resolvedAt: Date | null;
}

type Row = ApprovalsTable extends infer T ? { [K in keyof T]: unknown } : never;

const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

function fromRow(r: Row): Approval {
  return {
    id: r.id as string,
    sub: r.user_sub as string,
    runId: r.run_id as string,
    toolCallId: r.tool_call_id as string,
    tool: r.tool as string,
    audience: r.audience as string,
    bindingMessage: r.binding_message as string,
    authorizationDetails: json(r.authorization_details) as Approval['authorizationDetails'],
    argsHash: r.args_hash as string,
    userClaims: json(r.user_claims) as ClaimsSnapshot,
    authReqId: r.auth_req_id as string,
    status: r.status as ApprovalStatus,
    intervalSeconds: r.interval_seconds as number,
    nextPollAt: new Date(r.next_poll_at as Date),
    expiresAt: new Date(r.expires_at as Date),
    approver: (r.approver as string | null) ?? null,
    createdAt: new Date(r.created_at as Date),
    resolvedAt: r.resolved_at ? new Date(r.resolved_at as Date) : null,
  };
}

export function approvalView(a: Approval, threadId: string): ApprovalView {
  return {
    id: a.id,
    runId: a.runId,
    threadId,
    toolCallId: a.toolCallId,
    tool: a.tool,
    bindingMessage: a.bindingMessage,
    authorizationDetails: a.authorizationDetails,
    status: a.status,
    createdAt: a.createdAt.toISOString(),
    expiresAt: a.expiresAt.toISOString(),
    ...(a.resolvedAt ? { resolvedAt: a.resolvedAt.toISOString() } : {}),
  };
}

export class ApprovalStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(a: Omit<Approval, 'status' | 'approver' | 'createdAt' | 'resolvedAt'>): Promise<Approval> {
    const row = await this.db
      .insertInto('approvals')
      .values({
        id: a.id,
        user_sub: a.sub,
        run_id: a.runId,
        tool_call_id: a.toolCallId,
        tool: a.tool,
        audience: a.audience,
        binding_message: a.bindingMessage,
        authorization_details: JSON.stringify(a.authorizationDetails),
        args_hash: a.argsHash,
        user_claims: JSON.stringify(a.userClaims),
        auth_req_id: a.authReqId,
        status: 'pending',
        interval_seconds: a.intervalSeconds,
        next_poll_at: a.nextPollAt,
        expires_at: a.expiresAt,
        lease_owner: null,
        lease_until: null,
        approver: null,
        resolved_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return fromRow(row as Row);
  }

  async get(sub: string, id: string): Promise<Approval | undefined> {
    const r = await this.db.selectFrom('approvals').selectAll().where('id', '=', id).where('user_sub', '=', sub).executeTakeFirst();
    return r ? fromRow(r as Row) : undefined;
  }

  async forToolCall(runId: string, toolCallId: string): Promise<Approval | undefined> {
    const r = await this.db.selectFrom('approvals').selectAll().where('run_id', '=', runId).where('tool_call_id', '=', toolCallId).executeTakeFirst();
    return r ? fromRow(r as Row) : undefined;
  }

  async list(sub: string, opts: { status?: ApprovalStatus; limit?: number } = {}): Promise<Array<Approval & { threadId: string }>> {
    let q = this.db
      .selectFrom('approvals')
      .innerJoin('runs', 'runs.id', 'approvals.run_id')
      .selectAll('approvals')
      .select('runs.thread_id')
      .where('approvals.user_sub', '=', sub);
    if (opts.status) q = q.where('approvals.status', '=', opts.status);
    const rows = await q.orderBy('approvals.created_at', 'desc').limit(opts.limit ?? 50).execute();
    return rows.map((r) => ({ ...fromRow(r as unknown as Row), threadId: r.thread_id }));
  }

  /**
   * Claims up to `limit` pending approvals whose poll is due and that no live instance holds, for `leaseMs`.
   * `FOR UPDATE SKIP LOCKED` lets several instances claim concurrently without taking the same row.
   */
  async claimDue(owner: string, leaseMs: number, limit = 10): Promise<Approval[]> {
    const rows = await sql<Row>`
      update approvals set lease_owner = ${owner}, lease_until = now() + make_interval(secs => ${leaseMs / 1000})
      where id in (
        select id from approvals
        where status = 'pending' and next_poll_at <= now() and (lease_until is null or lease_until < now())
        order by next_poll_at
        limit ${limit}
        for update skip locked
      )
      returning *`.execute(this.db);
    return rows.rows.map(fromRow);
  }

  /** Next poll after `intervalSeconds` (which `slow_down` may have raised); gives up the lease. */
  async reschedule(id: string, owner: string, intervalSeconds: number): Promise<void> {
    await this.db
      .updateTable('approvals')
      .set({ interval_seconds: intervalSeconds, next_poll_at: new Date(Date.now() + intervalSeconds * 1000), lease_owner: null, lease_until: null })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  /**
   * Approvals that have an outcome while their run still waits on that call: the instance that resolved them
   * stopped before it resumed the run. Claimed with the same lease as due jobs.
   */
  async claimStranded(owner: string, leaseMs: number, limit = 10): Promise<Approval[]> {
    const rows = await sql<Row>`
      update approvals set lease_owner = ${owner}, lease_until = now() + make_interval(secs => ${leaseMs / 1000})
      where id in (
        select a.id from approvals a
        join runs r on r.id = a.run_id
        join tool_calls t on t.run_id = a.run_id and t.id = a.tool_call_id
        where a.status <> 'pending' and r.status = 'interrupted' and t.status = 'interrupted'
          and (a.lease_until is null or a.lease_until < now())
        limit ${limit}
        for update of a skip locked
      )
      returning *`.execute(this.db);
    return rows.rows.map(fromRow);
  }

  /**
   * Moves a pending approval to its outcome. Only one caller wins (the poller, or the user cancelling): the others
   * get undefined.
   */
  async resolve(id: string, status: Exclude<ApprovalStatus, 'pending'>, approver?: string): Promise<Approval | undefined> {
    const r = await this.db
      .updateTable('approvals')
      .set({ status, approver: approver ?? null, resolved_at: new Date(), lease_owner: null, lease_until: null })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .returningAll()
      .executeTakeFirst();
    return r ? fromRow(r as Row) : undefined;
  }
}

export class AuditLog {
  constructor(private readonly db: Kysely<Database>) {}

  async append(e: { sub: string; kind: AuditEntry['kind']; tool: string; summary: string; runId?: string; approvalId?: string; argsHash?: string; approver?: string }) {
    await this.db
      .insertInto('audit_events')
      .values({
        user_sub: e.sub,
        kind: e.kind,
        tool: e.tool,
        summary: e.summary,
        run_id: e.runId ?? null,
        approval_id: e.approvalId ?? null,
        args_hash: e.argsHash ?? null,
        approver: e.approver ?? null,
      })
      .execute();
  }

  async list(sub: string, limit = 100): Promise<AuditEntry[]> {
    const rows = await this.db.selectFrom('audit_events').selectAll().where('user_sub', '=', sub).orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      id: String(r.id),
      at: new Date(r.at).toISOString(),
      kind: r.kind as AuditEntry['kind'],
      tool: r.tool,
      summary: r.summary,
      ...(r.approval_id ? { approvalId: r.approval_id } : {}),
      ...(r.args_hash ? { argsHash: r.args_hash } : {}),
      ...(r.approver ? { approver: r.approver } : {}),
    }));
  }
}
