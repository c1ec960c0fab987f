/**
 * The policy gate: one pure function decides every tool call before it runs. The model cannot reach a tool
 * except through here, and nothing the model says is an input: only the verified token, the tool's declaration,
 * the validated arguments, what the run has done so far, and where the run's context came from.
 */
import { connectionLabel } from '../../../lib/connections';
import { MFA_ACR } from '../../../lib/defaults';
import { freshMfa } from '../auth/step-up';
import type { Destination, RiskTier } from './tool-declaration';

export type Decision =
  | { kind: 'allow' }
  | { kind: 'need_connection'; connection: string; scopes: string[]; reason: string }
  | { kind: 'need_approval'; reason: string; newDestinations?: Destination[] }
  | { kind: 'need_step_up'; acrValues: string; maxAgeSeconds: number; reason: string }
  | { kind: 'deny'; code: DenyCode; reason: string };

export type DenyCode =
  | 'unknown_tool'
  | 'invalid_arguments'
  | 'missing_scope'
  | 'tool_call_limit'
  | 'denied_call_limit'
  | 'approval_limit'
  | 'approval_refused_before'
  | 'user_approval_limit'
  | 'approval_mismatch';

export { MFA_ACR };

export interface GateLimits {
  toolCallsPerRun: number;
  deniedCallsPerRun: number;
  approvalsPerRun: number;
  approvalsPerUserPerHour: number;
  /** How recent a multi-factor login must be for `critical` tools. */
  stepUpMaxAgeSeconds: number;
  /** Tiers the organization also requires approval for (DEPUTY_APPROVAL_TIERS, agent/tool-policy.ts). */
  approvalTiers?: RiskTier[];
}

export const DEFAULT_LIMITS: GateLimits = {
  toolCallsPerRun: 12,
  deniedCallsPerRun: 3,
  approvalsPerRun: 3,
  approvalsPerUserPerHour: 20,
  stepUpMaxAgeSeconds: 300,
};

export interface GateInput {
  user: { sub: string; scopes: string[]; acr?: string; amr?: string[]; authTime?: number };
  /** undefined when the model named a tool that does not exist. */
  tool?: { name: string; tier: RiskTier; requiredScopes: string[]; sideEffect: boolean; connection?: { name: string; scopes: string[] } };
  /** Did the arguments pass the tool's zod schema? */
  argumentsValid: boolean;
  run: {
    toolCalls: number;
    deniedCalls: number;
    approvalsRequested: number;
    /** Approvals in this run that were denied, expired or cancelled: after one, the agent may not ask again (D4). */
    approvalsRefused?: number;
    /** Untrusted content (a page, a mail, a tool result from a third party, a retrieved document) is in the context. */
    untrustedContentPresent: boolean;
  };
  userApprovalsLastHour: number;
  /** The connection's state for this user, when the tool needs one. */
  connection?: { connected: boolean; grantedScopes: string[] };
  /** An approval the user gave for exactly this call (same tool, byte-identical arguments), if any. */
  approval?: { status: 'approved'; argumentsMatch: boolean };
  /**
   * Where the call sends data that the user neither named in their own words nor has as contacts (see
   * destinations.ts). Any such destination makes the call need the user's explicit approval, whatever its tier.
   */
  unnamedDestinations?: Destination[];
  nowSeconds: number;
  limits?: GateLimits;
}

export function decide(input: GateInput): Decision {
  const limits = input.limits ?? DEFAULT_LIMITS;
  const { tool, run, user } = input;

  if (run.toolCalls >= limits.toolCallsPerRun) {
    return deny('tool_call_limit', `This request already made ${run.toolCalls} tool calls, the most one request may make.`);
  }
  if (run.deniedCalls >= limits.deniedCallsPerRun) {
    return deny('denied_call_limit', `${run.deniedCalls} tool calls in this request were refused; no more are attempted.`);
  }
  if (!tool) return deny('unknown_tool', 'The model asked for a tool that does not exist.');
  if (!input.argumentsValid) return deny('invalid_arguments', `The arguments for ${tool.name} are invalid.`);

  const missing = tool.requiredScopes.filter((s) => !user.scopes.includes(s));
  if (missing.length > 0) {
    return deny('missing_scope', `Your account is not allowed to do this (missing permission: ${missing.join(', ')}).`);
  }

  if (tool.connection) {
    const c = input.connection;
    const lacking = tool.connection.scopes.filter((s) => !c?.grantedScopes.includes(s));
    if (!c?.connected || lacking.length > 0) {
      return {
        kind: 'need_connection',
        connection: tool.connection.name,
        scopes: tool.connection.scopes,
        reason: c?.connected
          ? `Your ${connectionLabel(tool.connection.name)} connection does not allow this yet. Reconnect to grant it.`
          : `Connect your ${connectionLabel(tool.connection.name)} account to continue.`,
      };
    }
  }

  // An approval of exactly this call was only requested after the step-up held; the approved token is what counts now.
  if (tool.tier === 'critical' && !input.approval) {
    if (!freshMfa(user, limits.stepUpMaxAgeSeconds, input.nowSeconds)) {
      return {
        kind: 'need_step_up',
        acrValues: MFA_ACR,
        maxAgeSeconds: limits.stepUpMaxAgeSeconds,
        reason: 'This action needs a fresh sign-in with a second factor.',
      };
    }
  }

  // An approval that does not match the call about to run means something changed after the user approved: never run.
  if (input.approval && !input.approval.argumentsMatch) {
    return deny('approval_mismatch', 'The approved action differs from the one about to run, so it was not run.');
  }

  const newDestinations = tool.sideEffect ? (input.unnamedDestinations ?? []) : [];
  const needsApproval =
    tool.tier === 'high' ||
    tool.tier === 'critical' ||
    (tool.sideEffect && run.untrustedContentPresent) ||
    newDestinations.length > 0 ||
    (limits.approvalTiers ?? []).includes(tool.tier);
  if (!needsApproval) return { kind: 'allow' };

  if (input.approval) return { kind: 'allow' };
  if ((run.approvalsRefused ?? 0) > 0) {
    return deny('approval_refused_before', 'An approval in this request was already denied, expired or cancelled; the assistant does not ask again. Send a new message if you want to try again.');
  }
  if (run.approvalsRequested >= limits.approvalsPerRun) {
    return deny('approval_limit', 'This request already asked for approval the most times one request may.');
  }
  if (input.userApprovalsLastHour >= limits.approvalsPerUserPerHour) {
    return deny('user_approval_limit', 'Too many approval requests in the last hour. Try again later.');
  }
  const reason =
    tool.tier === 'high' || tool.tier === 'critical'
      ? `${tool.name} is a ${tool.tier}-risk action: approve exactly this call first.`
      : run.untrustedContentPresent
        ? `Content from outside (a page, a mail, a document) is in this conversation, so ${tool.name} needs your approval.`
        : newDestinations.length > 0
          ? `${tool.name} sends data somewhere new.`
          : `Your organization requires your approval for ${tool.tier} actions such as ${tool.name}.`;
  if (!newDestinations.length) return { kind: 'need_approval', reason };
  const named = newDestinations.map((d) => d.value).join(', ');
  return { kind: 'need_approval', reason: `${reason} New destination: ${named}, which you did not name yourself; approve only if you meant it.`, newDestinations };
}

function deny(code: DenyCode, reason: string): Decision {
  return { kind: 'deny', code, reason };
}
