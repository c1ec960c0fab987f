/**
 * Human approval of risky calls. A call the gate sends to approval becomes a CIBA request whose binding message and
 * `authorization_details` come from the tool's `describe()` of the validated arguments (never from model prose),
 * stored as a durable job. A background poller (any instance; jobs are leased in Postgres) polls the IdP at the
 * request's interval, backs off on `slow_down`, and reports the outcome. An approved token is kept in memory only,
 * handed out once, to the run that executes exactly the approved call.
 */
import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { ApprovalStatus } from '../../../lib/protocol';
import type { Approval, ApprovalStore, AuditLog, ClaimsSnapshot } from '../store/approvals';
import { type CibaClient, CibaError } from './ciba-client';

export interface ApprovalRequest {
  sub: string;
  claims: ClaimsSnapshot;
  runId: string;
  toolCallId: string;
  tool: string;
  audience: string;
  scopes: string[];
  bindingMessage: string;
  authorizationDetails: Array<Record<string, unknown>>;
  argsHash: string;
  acrValues?: string;
}

export interface ApprovedToken {
  token: string;
  claims: JWTPayload & { authorization_details?: unknown };
}

export type Resolution = { approval: Approval; token?: ApprovedToken };

export interface ApprovalServiceOptions {
  ciba: CibaClient;
  store: ApprovalStore;
  audit: AuditLog;
  /** How long the user has to answer (CIBA `requested_expiry`). Default 300 s. */
  requestedExpirySeconds?: number;
  /** How often the poller looks for due jobs. Default 250 ms. */
  tickMs?: number;
  log?: (line: string) => void;
}

const OUTCOME_SUMMARY: Record<Exclude<ApprovalStatus, 'pending'>, string> = {
  approved: 'Approved on the trusted device',
  denied: 'Denied on the trusted device',
  expired: 'Expired without an answer',
  cancelled: 'Cancelled from the side panel',
};

export class ApprovalService {
  private readonly owner = randomUUID();
  private readonly approvedTokens = new Map<string, ApprovedToken>();
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private ticking: Promise<void> | undefined;
  private onResolved: (r: Resolution) => Promise<void> = async () => {};

  constructor(private readonly opts: ApprovalServiceOptions) {}

  /** Where outcomes go (the run manager resumes the paused run). */
  setResolutionHandler(handler: (r: Resolution) => Promise<void>) {
    this.onResolved = handler;
  }

  async request(req: ApprovalRequest): Promise<Approval> {
    const started = await this.opts.ciba.start({
      sub: req.sub,
      audience: req.audience,
      scopes: req.scopes,
      bindingMessage: req.bindingMessage,
      authorizationDetails: req.authorizationDetails,
      requestedExpirySeconds: this.opts.requestedExpirySeconds ?? 300,
      acrValues: req.acrValues,
    });
    const now = Date.now();
    const approval = await this.opts.store.create({
      id: randomUUID(),
      sub: req.sub,
      runId: req.runId,
      toolCallId: req.toolCallId,
      tool: req.tool,
      audience: req.audience,
      bindingMessage: req.bindingMessage,
      authorizationDetails: req.authorizationDetails,
      argsHash: req.argsHash,
      userClaims: req.claims,
      authReqId: started.authReqId,
      intervalSeconds: started.intervalSeconds,
      nextPollAt: new Date(now + started.intervalSeconds * 1000),
      expiresAt: new Date(now + started.expiresIn * 1000),
    });
    await this.opts.audit.append({ sub: req.sub, kind: 'approval.requested', tool: req.tool, runId: req.runId, approvalId: approval.id, argsHash: req.argsHash, summary: req.bindingMessage });
    return approval;
  }

  /** The approved token for this approval, once: a second call (or another call) gets nothing (D5). */
  takeApprovedToken(approvalId: string): ApprovedToken | undefined {
    const t = this.approvedTokens.get(approvalId);
    this.approvedTokens.delete(approvalId);
    return t;
  }

  /** The user withdrew a pending request from the side panel. Only one of cancel and the poller's outcome wins. */
  async cancel(sub: string, approvalId: string): Promise<{ found: false } | { found: true; cancelled?: Approval }> {
    const mine = await this.opts.store.get(sub, approvalId);
    if (!mine) return { found: false };
    const cancelled = await this.opts.store.resolve(approvalId, 'cancelled');
    if (cancelled) await this.finish(cancelled);
    return { found: true, cancelled };
  }

  start() {
    this.timer ??= setInterval(() => {
      this.ticking ??= this.tick().finally(() => (this.ticking = undefined));
    }, this.opts.tickMs ?? 250);
  }

  async stop() {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** One pass over the due jobs (exported for tests that step time by hand). */
  async tick(): Promise<void> {
    let due: Approval[];
    try {
      due = await this.opts.store.claimDue(this.owner, 30_000);
    } catch (err) {
      this.opts.log?.(`approval poller: could not claim jobs (${err instanceof Error ? err.message : 'unknown'})`);
      return;
    }
    await Promise.all(due.map((a) => this.pollOne(a)));
    if (++this.ticks % 20 === 0) {
      for (const a of await this.opts.store.claimStranded(this.owner, 30_000).catch(() => [])) await this.resume(a);
    }
  }

  private async pollOne(a: Approval): Promise<void> {
    const { store } = this.opts;
    let result;
    try {
      result = await this.opts.ciba.poll(a.authReqId, { sub: a.sub, audience: a.audience });
    } catch (err) {
      // The IdP is unreachable: try again later, until the request has lapsed anyway.
      if (Date.now() > a.expiresAt.getTime()) return this.settle(a, 'expired');
      this.opts.log?.(`approval ${a.id.slice(0, 8)}: poll failed (${err instanceof CibaError ? err.code : 'error'})`);
      return store.reschedule(a.id, this.owner, a.intervalSeconds);
    }
    switch (result.status) {
      case 'pending':
        return store.reschedule(a.id, this.owner, a.intervalSeconds);
      case 'slow_down':
        // Honour the IdP: never poll faster than it asks, and at least 5 s slower than before.
        return store.reschedule(a.id, this.owner, Math.max(result.intervalSeconds, a.intervalSeconds + 5));
      case 'approved':
        return this.settle(a, 'approved', { token: result.token, claims: result.claims });
      case 'denied':
        return this.settle(a, Date.now() >= a.expiresAt.getTime() - 1000 ? 'expired' : 'denied');
      case 'expired':
        return this.settle(a, 'expired');
      case 'failed':
        this.opts.log?.(`approval ${a.id.slice(0, 8)}: the IdP refused the poll (${result.code})`);
        return this.settle(a, 'denied');
    }
  }

  private async settle(a: Approval, status: Exclude<ApprovalStatus, 'pending'>, token?: ApprovedToken) {
    const resolved = await this.opts.store.resolve(a.id, status, token ? String(token.claims.sub) : undefined);
    if (!resolved) return; // cancelled meanwhile: an approval that arrives now runs nothing
    if (token) this.approvedTokens.set(a.id, token);
    await this.finish(resolved);
  }

  private async finish(a: Approval) {
    const status = a.status as Exclude<ApprovalStatus, 'pending'>;
    await this.opts.audit.append({
      sub: a.sub,
      kind: `approval.${status}`,
      tool: a.tool,
      runId: a.runId,
      approvalId: a.id,
      argsHash: a.argsHash,
      ...(a.approver ? { approver: a.approver } : {}),
      summary: `${OUTCOME_SUMMARY[status]}: ${a.bindingMessage}`,
    });
    await this.resume(a);
  }

  private async resume(a: Approval) {
    try {
      await this.onResolved({ approval: a, token: this.approvedTokens.get(a.id) });
    } catch (err) {
      this.opts.log?.(`approval ${a.id.slice(0, 8)}: resuming the run failed (${err instanceof Error ? err.message : 'unknown'})`);
    }
  }
}
