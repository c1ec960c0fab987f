/** The organization's tool policy as the backend enforces it (DEPUTY_ALLOWED_TOOLS / _CONNECTIONS / APPROVAL_TIERS). */
import { describe, expect, it } from 'vitest';
import { decide, DEFAULT_LIMITS, type GateInput } from '../../backend/src/agent/policy-gate';
import { applyToolPolicy, parseToolPolicy } from '../../backend/src/agent/tool-policy';
import { projectTools } from '../../backend/src/agent/tools/projects';
import { thirdPartyTools } from '../../backend/src/agent/tools/third-party';
import { loadConfig } from '../../backend/src/config';

const all = [
  ...projectTools('http://localhost:1'),
  ...thirdPartyTools({ googleApiUrl: 'http://localhost:1/', slackApiUrl: 'http://localhost:1/', githubApiUrl: 'http://localhost:1' }),
];
const names = (env: Record<string, string>) => applyToolPolicy(all, parseToolPolicy(env)).tools.map((t) => t.name);

describe('backend tool policy', () => {
  it('offers every tool when nothing is set', () => {
    expect(names({})).toEqual(all.map((t) => t.name));
  });

  it('offers only the allowed tools, and an empty DEPUTY_ALLOWED_TOOLS offers none', () => {
    expect(names({ DEPUTY_ALLOWED_TOOLS: 'list_projects, create_task' })).toEqual(['list_projects', 'create_task']);
    expect(names({ DEPUTY_ALLOWED_TOOLS: '' })).toEqual([]);
  });

  it('drops the tools of connections that are not allowed', () => {
    const kept = names({ DEPUTY_ALLOWED_CONNECTIONS: 'github' });
    expect(kept).toContain('create_github_issue');
    expect(kept).toContain('delete_project');
    expect(kept.some((n) => /email|calendar|slack/.test(n))).toBe(false);
    expect(names({ DEPUTY_ALLOWED_CONNECTIONS: '' }).every((n) => !all.find((t) => t.name === n)?.connection)).toBe(true);
  });

  it('reports allow-list names that match no tool (a typo would silently disable a tool)', () => {
    expect(applyToolPolicy(all, parseToolPolicy({ DEPUTY_ALLOWED_TOOLS: 'list_projects,send_mail' })).unknownNames).toEqual(['send_mail']);
  });

  it('is part of the backend configuration, and an unknown tier stops the start with a clear error', () => {
    expect(loadConfig({ DEPUTY_APPROVAL_TIERS: 'write' }).toolPolicy).toEqual({ approvalTiers: ['write'] });
    expect(() => loadConfig({ DEPUTY_APPROVAL_TIERS: 'writes' })).toThrow(/DEPUTY_APPROVAL_TIERS: unknown tier writes/);
  });
});

describe('approval for tiers beyond the defaults', () => {
  const input = (tier: 'read' | 'write', approvalTiers: Array<'read' | 'write'>): GateInput => ({
    user: { sub: 'auth0|u', scopes: ['chat'] },
    tool: { name: 'create_task', tier, requiredScopes: ['chat'], sideEffect: tier === 'write' },
    argumentsValid: true,
    run: { toolCalls: 0, deniedCalls: 0, approvalsRequested: 0, untrustedContentPresent: false },
    userApprovalsLastHour: 0,
    nowSeconds: 1_800_000_000,
    limits: { ...DEFAULT_LIMITS, approvalTiers },
  });

  it('lets write calls run without approval by default', () => {
    expect(decide(input('write', [])).kind).toBe('allow');
  });

  it('asks for approval of write calls when the organization requires it, and says why', () => {
    const d = decide(input('write', ['write']));
    expect(d).toMatchObject({ kind: 'need_approval', reason: expect.stringMatching(/organization requires your approval for write/) });
    expect(decide(input('read', ['write'])).kind).toBe('allow');
  });

  it('runs the call once it is approved exactly', () => {
    expect(decide({ ...input('write', ['write']), approval: { status: 'approved', argumentsMatch: true } }).kind).toBe('allow');
  });
});
