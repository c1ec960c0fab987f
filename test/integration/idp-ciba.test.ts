/** The IdP emulator's CIBA endpoint on the wire (D1, D2, D7, D9) and the approvals page's per-user view. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningIdp, startIdp } from '../../backend/emulators/idp/index';
import { CIBA_GRANT, DEFAULT_API_AUDIENCE } from '../../lib/defaults';
import { answerApproval, approvalsFeed, signInToApprovals } from '../helpers/approvals';

let idp: RunningIdp;
let dataDir: string;
const alice = () => idp.users.find((u) => u.username === 'alice')!;
const bob = () => idp.users.find((u) => u.username === 'bob')!;

const post = (p: string, params: Record<string, string>, client = { id: 'deputy-backend', secret: idp.backendClientSecret }) =>
  fetch(`${idp.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: client.id, client_secret: client.secret, ...params }) });

const start = (overrides: Record<string, string> = {}) =>
  post('/bc-authorize', {
    scope: 'openid chat',
    audience: DEFAULT_API_AUDIENCE,
    login_hint: JSON.stringify({ format: 'iss_sub', iss: idp.issuer, sub: alice().sub }),
    binding_message: 'Send mail to bob at example.com: Hi',
    authorization_details: JSON.stringify([{ type: 'email_send', to: ['bob@example.com'], subject: 'Hi', body: 'x' }]),
    ...overrides,
  });
const poll = (id: string) => post('/oauth/token', { grant_type: CIBA_GRANT, auth_req_id: id });

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-ciba-'));
  idp = await startIdp({ port: 0, dataDir });
});
afterAll(async () => {
  await idp?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('CIBA at the IdP emulator', () => {
  it('D2: the default interval is 5 s; polling faster gets slow_down with Retry-After and a longer interval', async () => {
    const started = await start();
    expect(started.status).toBe(200);
    const { auth_req_id, interval, expires_in } = await started.json();
    expect(interval).toBe(5);
    expect(expires_in).toBe(300);
    expect((await (await poll(auth_req_id)).json()).error).toBe('authorization_pending');
    const fast = await poll(auth_req_id);
    expect(fast.status).toBe(400);
    expect(fast.headers.get('retry-after')).toBe('10');
    expect(await fast.json()).toMatchObject({ error: 'slow_down', interval: 10 });
  });

  it('D1: an approved auth_req_id gives one token carrying the approved details, then invalid_grant', async () => {
    const { auth_req_id } = await (await start({ binding_message: 'D1 test' })).json();
    await answerApproval(idp.url, alice(), { authReqId: auth_req_id }, 'approve');
    const ok = await poll(auth_req_id);
    expect(ok.status).toBe(200);
    const body = await ok.json();
    expect(body.authorization_details).toEqual([{ type: 'email_send', to: ['bob@example.com'], subject: 'Hi', body: 'x' }]);
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: alice().sub, aud: DEFAULT_API_AUDIENCE, azp: 'deputy-backend', authorization_details: body.authorization_details });
    expect((await (await poll(auth_req_id)).json()).error).toBe('invalid_grant');
  });

  it('denial → access_denied', async () => {
    const { auth_req_id } = await (await start({ binding_message: 'Deny me' })).json();
    await answerApproval(idp.url, alice(), { authReqId: auth_req_id }, 'deny');
    expect((await (await poll(auth_req_id)).json()).error).toBe('access_denied');
  });

  it('D7: a missing, too long or out-of-charset binding message is refused', async () => {
    for (const m of ['', 'x'.repeat(65), 'Send <b>now</b>', 'Pay\u202E 0001']) {
      const res = await start({ binding_message: m });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('invalid_binding_message');
    }
  });

  it('D9: an unknown type or an extra field is refused', async () => {
    for (const d of [[{ type: 'wire_transfer', amount: 5 }], [{ type: 'email_send', to: ['b@example.com'], bcc: ['x@example.com'] }]]) {
      const res = await start({ authorization_details: JSON.stringify(d) });
      expect((await res.json()).error).toBe('invalid_authorization_details');
    }
  });

  it('refuses the public client, a wrong login_hint and an unknown user', async () => {
    expect((await post('/bc-authorize', { scope: 'openid' }, { id: 'deputy-extension', secret: '' })).status).toBe(401);
    expect((await (await start({ login_hint: 'alice@example.com' })).json()).error).toBe('invalid_request');
    expect((await (await start({ login_hint: JSON.stringify({ format: 'iss_sub', iss: idp.issuer, sub: 'auth0|nobody' }) })).json()).error).toBe('unknown_user_id');
  });

  it('the approvals page shows each user only their own requests', async () => {
    const { auth_req_id } = await (await start({ binding_message: 'Only for Alice' })).json();
    const asBob = await signInToApprovals(idp.url, bob());
    expect((await approvalsFeed(idp.url, asBob)).map((r) => r.id)).not.toContain(auth_req_id);
    const asAlice = await signInToApprovals(idp.url, alice());
    expect((await approvalsFeed(idp.url, asAlice)).find((r) => r.id === auth_req_id)).toMatchObject({ status: 'pending', bindingMessage: 'Only for Alice' });
  });
});
