/**
 * The organization's tool policy, enforced by the backend: the same values an administrator puts in the extension's
 * managed policy (lib/managed-policy.ts), set here through the environment, because the backend trusts nothing the
 * extension sends. Unset means "no restriction"; set (even to an empty string) means exactly that list.
 *
 *   DEPUTY_ALLOWED_TOOLS        comma-separated tool names the model is offered and may call
 *   DEPUTY_ALLOWED_CONNECTIONS  comma-separated connections (google-oauth2, sign-in-with-slack, github)
 *   DEPUTY_APPROVAL_TIERS       tiers that need approval besides the defaults (high, critical), e.g. `write`
 */
import { RiskTier as RiskTiers } from '../../../lib/protocol';
import type { RiskTier } from './tool-declaration';

const TIERS: readonly RiskTier[] = RiskTiers.options;

export interface ToolPolicy {
  /** undefined: every tool. */
  allowedTools?: string[];
  /** undefined: every connection. */
  allowedConnections?: string[];
  /** Extra tiers that need the user's approval of the exact call. */
  approvalTiers: RiskTier[];
}

const list = (value: string | undefined) =>
  value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter(Boolean);

/** Parses the three variables; throws a readable error for an unknown tier. */
export function parseToolPolicy(env: { DEPUTY_ALLOWED_TOOLS?: string; DEPUTY_ALLOWED_CONNECTIONS?: string; DEPUTY_APPROVAL_TIERS?: string }): ToolPolicy {
  const tiers = list(env.DEPUTY_APPROVAL_TIERS) ?? [];
  const unknown = tiers.filter((t) => !TIERS.includes(t as RiskTier));
  if (unknown.length) throw new Error(`DEPUTY_APPROVAL_TIERS: unknown tier ${unknown.join(', ')} (use ${TIERS.join(', ')})`);
  return {
    allowedTools: list(env.DEPUTY_ALLOWED_TOOLS),
    allowedConnections: list(env.DEPUTY_ALLOWED_CONNECTIONS),
    approvalTiers: tiers as RiskTier[],
  };
}

/**
 * The tools this deployment offers: a tool the policy does not allow, or whose connection it does not allow, is not
 * shown to the model, and a call to it is refused like a call to a tool that does not exist.
 */
export function applyToolPolicy<T extends { name: string; connection?: { name: string } }>(
  tools: T[],
  policy: ToolPolicy,
): { tools: T[]; unknownNames: string[] } {
  const names = new Set(tools.map((t) => t.name));
  const kept = tools.filter(
    (t) =>
      (!policy.allowedTools || policy.allowedTools.includes(t.name)) &&
      (!t.connection || !policy.allowedConnections || policy.allowedConnections.includes(t.connection.name)),
  );
  return { tools: kept, unknownNames: (policy.allowedTools ?? []).filter((n) => !names.has(n)) };
}
