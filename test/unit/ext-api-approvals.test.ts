/** The api client's approvals, activity and step-up surface: validated shapes, bearer, distinct step-up error. */
import { describe, expect, it, vi } from 'vitest';
import { ApiError, bearerChallengeParams, createApiClient, StepUpRequiredError } from '../../lib/api-client';

const runId = '6f1c1f8e-3f3b-4d7e-9a55-0a4b7f1f2a01';
const threadId = '0d1f7a3c-5b2e-4c1a-8f3d-2e6b9c7a4d10';
const approvalId = '3b0e9a52-6a51-4c43-9d43-5f4f2f0a7c11';
const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

const approval = (status: string) => ({
  id: approvalId,
  runId,
  threadId,
  toolCallId: 'call_d',
  tool: 'delete_project',
  bindingMessage: 'Delete project security-audit',
  authorizationDetails: [{ type: 'project_delete', projectId: 'security-audit' }],
  status,
  createdAt: '2026-11-02T10:00:00.000Z',
  expiresAt: '2026-11-02T10:05:00.000Z',
});

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
const problem = (status: number, code: string, headers: Record<string, string> = {}) =>
  json({ type: 'about:blank', title: 'Error', status, code, detail: `${code} detail` }, status, headers);

function client(respond: (url: string, init?: RequestInit) => Response) {
  const fetch = vi.fn(async (url: string, init?: RequestInit) => respond(url, init));
  const getAccessToken = vi.fn(async (o?: { rejected?: string }) => (o?.rejected ? 't2' : 't1'));
  return { api: createApiClient({ baseUrl: 'http://x/', getAccessToken, fetch }), fetch, getAccessToken };
}

describe('approvals and activity', () => {
  it('lists pending approvals with the bearer token', async () => {
    const { api, fetch } = client(() => json({ approvals: [approval('pending')] }));
    expect((await api.listApprovals()).approvals[0]).toMatchObject({ id: approvalId, status: 'pending' });
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('http://x/v1/approvals?status=pending');
    expect(new Headers(init!.headers).get('Authorization')).toBe('Bearer t1');
  });

  it('cancels with a bodiless POST and returns the cancelled approval', async () => {
    const { api, fetch } = client(() => json(approval('cancelled')));
    expect(await api.cancelApproval(approvalId)).toMatchObject({ status: 'cancelled' });
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe(`http://x/v1/approvals/${approvalId}/cancel`);
    expect(init!.method).toBe('POST');
    expect(init!.body).toBeUndefined();
  });

  it('a cancel that comes too late is ApiError 409 not_pending', async () => {
    const { api } = client(() => problem(409, 'not_pending'));
    await expect(api.cancelApproval(approvalId)).rejects.toMatchObject({ status: 409, code: 'not_pending' });
  });

  it('lists activity; a response of the wrong shape is invalid_response', async () => {
    const entry = { id: '1', at: '2026-11-02T10:00:00.000Z', kind: 'tool.executed', tool: 'delete_project', summary: 'Deleted' };
    expect((await client(() => json({ entries: [entry] })).api.listActivity()).entries).toEqual([entry]);
    const bad = client(() => json({ entries: [{ ...entry, kind: 'tool.teleported' }] }));
    await expect(bad.api.listActivity()).rejects.toMatchObject({ code: 'invalid_response' });
    await expect(client(() => json({ approvals: [approval('maybe')] })).api.listApprovals()).rejects.toMatchObject({ code: 'invalid_response' });
  });
});

describe('step-up on resume', () => {
  const challenge = `Bearer error="insufficient_user_authentication", error_description="A fresh multi-factor sign-in is required", acr_values="${MFA}", max_age=300`;

  it('a 401 insufficient_user_authentication is a StepUpRequiredError with acr_values and max_age, without a renewal or retry', async () => {
    const { api, fetch, getAccessToken } = client(() => problem(401, 'insufficient_user_authentication', { 'WWW-Authenticate': challenge }));
    const err = await api.resumeRun(runId, 'call_d').catch((e) => e);
    expect(err).toBeInstanceOf(StepUpRequiredError);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 401, code: 'insufficient_user_authentication', acrValues: MFA, maxAgeSeconds: 300 });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(getAccessToken).toHaveBeenCalledTimes(1);
  });

  it('other 401s still renew once and retry', async () => {
    let n = 0;
    const { api, fetch } = client(() => (n++ === 0 ? problem(401, 'invalid_token', { 'WWW-Authenticate': 'Bearer error="invalid_token"' }) : new Response(null, { status: 202 })));
    await api.resumeRun(runId, 'call_d');
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(new Headers(fetch.mock.calls[1][1]!.headers).get('Authorization')).toBe('Bearer t2');
  });

  it('parses Bearer challenge parameters (quoted, token, escaped)', () => {
    expect(bearerChallengeParams(challenge)).toEqual({
      error: 'insufficient_user_authentication',
      error_description: 'A fresh multi-factor sign-in is required',
      acr_values: MFA,
      max_age: '300',
    });
    expect(bearerChallengeParams('DPoP algs="ES256", Bearer realm="a\\"b", error=invalid_token')).toEqual({ realm: 'a"b', error: 'invalid_token' });
    expect(bearerChallengeParams(null)).toBeUndefined();
    expect(bearerChallengeParams('Basic realm="x"')).toBeUndefined();
  });
});
