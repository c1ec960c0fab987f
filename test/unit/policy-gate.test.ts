import { describe, expect, it } from 'vitest';
import { decide, DEFAULT_LIMITS, type GateInput, MFA_ACR } from '../../backend/src/agent/policy-gate';
import type { RiskTier } from '../../backend/src/agent/tool-declaration';
import { toBindingMessage } from '../../backend/src/agent/tool-declaration';

const NOW = 1_800_000_000;
const tiers: RiskTier[] = ['read', 'write', 'high', 'critical'];

type Conn = 'none-needed' | 'connected' | 'lacking-scope' | 'not-connected';
type Approval = 'none' | 'match' | 'mismatch';
type Auth = 'plain' | 'mfa-stale' | 'mfa-fresh';

function build(o: {
  tier: RiskTier; sideEffect: boolean; scopesOk: boolean; conn: Conn; untrusted: boolean; approval: Approval; auth: Auth;
}): GateInput {
  return {
    user: {
      sub: 'auth0|u',
      scopes: o.scopesOk ? ['chat', 'projects'] : ['chat'],
      acr: o.auth === 'plain' ? undefined : MFA_ACR,
      amr: o.auth === 'plain' ? ['pwd'] : ['pwd', 'mfa'],
      authTime: o.auth === 'mfa-fresh' ? NOW - 30 : NOW - 3600,
    },
    tool: {
      name: 't',
      tier: o.tier,
      sideEffect: o.sideEffect,
      requiredScopes: ['projects'],
      connection: o.conn === 'none-needed' ? undefined : { name: 'github', scopes: ['repo'] },
    },
    argumentsValid: true,
    run: { toolCalls: 0, deniedCalls: 0, approvalsRequested: 0, untrustedContentPresent: o.untrusted },
    userApprovalsLastHour: 0,
    connection:
      o.conn === 'connected' ? { connected: true, grantedScopes: ['repo'] }
      : o.conn === 'lacking-scope' ? { connected: true, grantedScopes: ['read:user'] }
      : o.conn === 'not-connected' ? { connected: false, grantedScopes: [] }
      : undefined,
    approval: o.approval === 'none' ? undefined : { status: 'approved', argumentsMatch: o.approval === 'match' },
    nowSeconds: NOW,
  };
}

function* everyCase() {
  for (const tier of tiers)
    for (const sideEffect of [false, true])
      for (const scopesOk of [false, true])
        for (const conn of ['none-needed', 'connected', 'lacking-scope', 'not-connected'] as Conn[])
          for (const untrusted of [false, true])
            for (const approval of ['none', 'match', 'mismatch'] as Approval[])
              for (const auth of ['plain', 'mfa-stale', 'mfa-fresh'] as Auth[])
                yield { tier, sideEffect, scopesOk, conn, untrusted, approval, auth };
}

describe('policy gate: the whole decision table', () => {
  const cases = [...everyCase()];
  it(`covers ${cases.length} combinations`, () => expect(cases.length).toBe(4 * 2 * 2 * 4 * 2 * 3 * 3));

  it('never allows a call the user’s scopes do not cover', () => {
    for (const c of cases.filter((c) => !c.scopesOk)) expect(decide(build(c))).toMatchObject({ kind: 'deny', code: 'missing_scope' });
  });

  it('never allows a call whose connection is missing or lacks scopes', () => {
    for (const c of cases.filter((c) => c.scopesOk && (c.conn === 'not-connected' || c.conn === 'lacking-scope'))) {
      expect(decide(build(c))).toMatchObject({ kind: 'need_connection', connection: 'github', scopes: ['repo'] });
    }
  });

  it('never allows high or critical calls without an approval of exactly these arguments', () => {
    for (const c of cases.filter((c) => c.tier === 'high' || c.tier === 'critical')) {
      const d = decide(build(c));
      if (d.kind === 'allow') expect(c.approval).toBe('match');
    }
  });

  it('never asks to approve (nor runs) a critical call without a fresh multi-factor login', () => {
    for (const c of cases.filter((c) => c.tier === 'critical' && c.approval === 'none' && c.scopesOk && !['not-connected', 'lacking-scope'].includes(c.conn))) {
      const d = decide(build(c));
      if (c.auth !== 'mfa-fresh') expect(d).toMatchObject({ kind: 'need_step_up', acrValues: MFA_ACR, maxAgeSeconds: DEFAULT_LIMITS.stepUpMaxAgeSeconds });
      else expect(d.kind).toBe('need_approval');
    }
  });

  it('a critical call approved for exactly these arguments runs: the approved token, not the old login, is checked by the API', () => {
    for (const c of cases.filter((c) => c.tier === 'critical' && c.approval === 'match' && c.scopesOk && ['none-needed', 'connected'].includes(c.conn))) {
      expect(decide(build(c))).toEqual({ kind: 'allow' });
    }
  });

  it('D4: after an approval in the run was denied, expired or cancelled, no further approval is asked', () => {
    const input = build({ tier: 'high', sideEffect: true, scopesOk: true, conn: 'none-needed', untrusted: false, approval: 'none', auth: 'plain' });
    expect(decide(input).kind).toBe('need_approval');
    expect(decide({ ...input, run: { ...input.run, approvalsRefused: 1 } })).toMatchObject({ kind: 'deny', code: 'approval_refused_before' });
  });

  it('once untrusted content is in the run, every side effect needs approval whatever its tier', () => {
    for (const c of cases.filter((c) => c.untrusted && c.sideEffect)) {
      const d = decide(build(c));
      if (d.kind === 'allow') expect(c.approval).toBe('match');
    }
  });

  it('an approval whose arguments differ never runs (D6)', () => {
    for (const c of cases.filter((c) => c.approval === 'mismatch')) expect(decide(build(c)).kind).not.toBe('allow');
  });

  it('allows reads and trusted writes outright, without approval prompts (no approval fatigue)', () => {
    for (const c of cases.filter((c) => (c.tier === 'read' || c.tier === 'write') && c.scopesOk && ['none-needed', 'connected'].includes(c.conn) && !(c.untrusted && c.sideEffect) && c.approval !== 'mismatch')) {
      expect(decide(build(c))).toEqual({ kind: 'allow' });
    }
  });

  it('asks for approval (not deny) for a high-risk call with everything else in order', () => {
    expect(decide(build({ tier: 'high', sideEffect: true, scopesOk: true, conn: 'none-needed', untrusted: false, approval: 'none', auth: 'plain' })))
      .toMatchObject({ kind: 'need_approval' });
  });
});

describe('policy gate: loops are bounded (G4)', () => {
  const base = build({ tier: 'read', sideEffect: false, scopesOk: true, conn: 'none-needed', untrusted: false, approval: 'none', auth: 'plain' });
  const high = build({ tier: 'high', sideEffect: true, scopesOk: true, conn: 'none-needed', untrusted: false, approval: 'none', auth: 'plain' });

  it('stops after the per-run tool-call budget', () => {
    expect(decide({ ...base, run: { ...base.run, toolCalls: DEFAULT_LIMITS.toolCallsPerRun - 1 } }).kind).toBe('allow');
    expect(decide({ ...base, run: { ...base.run, toolCalls: DEFAULT_LIMITS.toolCallsPerRun } })).toMatchObject({ code: 'tool_call_limit' });
  });
  it('stops after too many denied calls in a run', () => {
    expect(decide({ ...base, run: { ...base.run, deniedCalls: DEFAULT_LIMITS.deniedCallsPerRun } })).toMatchObject({ code: 'denied_call_limit' });
  });
  it('stops asking for approvals after the per-run and per-user budgets', () => {
    expect(decide({ ...high, run: { ...high.run, approvalsRequested: DEFAULT_LIMITS.approvalsPerRun } })).toMatchObject({ code: 'approval_limit' });
    expect(decide({ ...high, userApprovalsLastHour: DEFAULT_LIMITS.approvalsPerUserPerHour })).toMatchObject({ code: 'user_approval_limit' });
  });
  it('denies unknown tools and invalid arguments with a reason', () => {
    expect(decide({ ...base, tool: undefined })).toMatchObject({ kind: 'deny', code: 'unknown_tool' });
    expect(decide({ ...base, argumentsValid: false })).toMatchObject({ kind: 'deny', code: 'invalid_arguments' });
  });
});

describe('binding messages (D7)', () => {
  it('keeps Auth0’s charset and 64 characters', () => {
    const m = toBindingMessage('Delete project "Website relaunch" <now> & forever!!! '.repeat(3));
    expect(m.length).toBeLessThanOrEqual(64);
    expect(m).toMatch(/^[A-Za-z0-9 +\-_.,:#]*$/);
  });
  it('strips bidi and zero-width characters', () => {
    expect(toBindingMessage('Pay\u202E 0001 \u200Bto bob')).toBe('Pay 0001 to bob');
  });
});

describe('policy gate: the destination rule', () => {
  const attacker = [{ kind: 'email' as const, value: 'exfil@attacker.example' }];
  const cases = [...everyCase()].filter((c) => c.scopesOk && ['none-needed', 'connected'].includes(c.conn) && c.approval !== 'mismatch' && c.auth === 'mfa-fresh');

  it('a side effect that sends data somewhere the user did not name never runs without an approval, whatever its tier and the context', () => {
    for (const c of cases.filter((c) => c.sideEffect)) {
      const d = decide({ ...build(c), unnamedDestinations: attacker });
      if (c.approval === 'match') expect(d).toEqual({ kind: 'allow' });
      else expect(d).toMatchObject({ kind: 'need_approval', newDestinations: attacker });
    }
  });

  it('the approval request names the new destination in its reason', () => {
    const d = decide({ ...build({ tier: 'write', sideEffect: true, scopesOk: true, conn: 'connected', untrusted: false, approval: 'none', auth: 'plain' }), unnamedDestinations: attacker });
    expect(d.kind === 'need_approval' && d.reason).toMatch(/exfil@attacker\.example.*did not name/);
  });

  it('no approval fatigue: a clean write to destinations the user named runs at once, and a high-risk one asks exactly once (no new-destination flag)', () => {
    const write = build({ tier: 'write', sideEffect: true, scopesOk: true, conn: 'connected', untrusted: false, approval: 'none', auth: 'plain' });
    expect(decide({ ...write, unnamedDestinations: [] })).toEqual({ kind: 'allow' });
    const high = build({ tier: 'high', sideEffect: true, scopesOk: true, conn: 'connected', untrusted: false, approval: 'none', auth: 'plain' });
    const d = decide({ ...high, unnamedDestinations: [] });
    expect(d.kind).toBe('need_approval');
    expect(d).not.toHaveProperty('newDestinations');
  });

  it('read-only tools have no destinations to check', () => {
    const read = build({ tier: 'read', sideEffect: false, scopesOk: true, conn: 'connected', untrusted: true, approval: 'none', auth: 'plain' });
    expect(decide({ ...read, unnamedDestinations: attacker })).toEqual({ kind: 'allow' });
  });

  it('refusals and budgets still apply to new-destination approvals (D4, G4)', () => {
    const write = { ...build({ tier: 'write', sideEffect: true, scopesOk: true, conn: 'connected', untrusted: false, approval: 'none', auth: 'plain' }), unnamedDestinations: attacker };
    expect(decide({ ...write, run: { ...write.run, approvalsRefused: 1 } })).toMatchObject({ kind: 'deny', code: 'approval_refused_before' });
    expect(decide({ ...write, run: { ...write.run, approvalsRequested: DEFAULT_LIMITS.approvalsPerRun } })).toMatchObject({ kind: 'deny', code: 'approval_limit' });
  });
});
