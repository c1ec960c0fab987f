/**
 * The whole offline system on free ports, with real credentials for every kind of caller the fuzzer impersonates:
 * Alice's API, My Account and Projects tokens, her provider tokens (Google, Slack, GitHub), the backend's client
 * secret; and a snapshot of Bob's data everywhere, to check that nothing the fuzzer sends as Alice (or as nobody)
 * changes it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FREE_PORTS, startStack, type RunningStack } from '../../backend/src/stack';
import { ResourceTokenClient } from '../../backend/src/agent/resource-tokens';
import { DEFAULT_API_AUDIENCE, DEFAULT_EXTENSION_CLIENT_ID, EXTENSION_REDIRECT_URI, PROJECTS_AUDIENCE, PROJECTS_SCOPES } from '../../lib/defaults';
import { myAccountToken } from '../helpers/connect-account';
import { pkceLogin } from '../helpers/pkce-login';
import { obtainProviderToken, type ProviderName } from '../helpers/provider-tokens';

export type Who = 'alice' | 'bob';
/** The kinds of credentials a route takes (see routes.ts). */
export type CredentialKind = 'api' | 'myAccount' | 'projects' | 'google' | 'slack' | 'github' | 'backendClient' | 'none';

export interface FuzzWorld {
  stack: RunningStack;
  dataDir: string;
  /** Base URL per service name used in the route table. */
  urls: Record<string, string>;
  /** A valid credential of `who` for a route of this kind ('' for none). */
  credential(kind: CredentialKind, who?: Who): string;
  /** Values for path parameters that exist: Alice's (projectId) and Bob's (bobProjectId, bobRunId, bobThreadId). */
  known: Record<string, string>;
  /** Secrets that must never appear in any response body: Bob's credentials and the backend's client secret. */
  secrets(): string[];
  /** Bob's data, as Bob sees it, everywhere. */
  snapshotBob(): Promise<unknown>;
  close(): Promise<void>;
}

const PROVIDER_SCOPES: Record<ProviderName, string[]> = {
  google: ['https://www.googleapis.com/auth/calendar.events', 'https://www.googleapis.com/auth/gmail.readonly', 'https://www.googleapis.com/auth/gmail.send'],
  slack: ['channels:read', 'channels:history', 'chat:write'],
  github: ['repo'],
};

export async function startFuzzWorld(): Promise<FuzzWorld> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-fuzz-'));
  const stack = await startStack({ dataDir, ports: FREE_PORTS, modelChunkDelayMs: 0 });
  try {
    const users = { alice: stack.users.find((u) => u.username === 'alice')!, bob: stack.users.find((u) => u.username === 'bob')! };
    const issuer = `${stack.idpUrl}/`;
    const upstream = JSON.parse(fs.readFileSync(path.join(dataDir, 'providers', 'oauth-client.json'), 'utf8')) as { clientId: string; clientSecret: string };
    const exchange = new ResourceTokenClient({ tokenUrl: `${issuer}oauth/token`, clientId: 'deputy-backend', clientSecret: stack.backendClientSecret! });

    const creds = { alice: {} as Record<string, string>, bob: {} as Record<string, string> };
    for (const who of ['alice', 'bob'] as const) {
      const u = users[who];
      const api = await pkceLogin({
        idpUrl: stack.idpUrl!, clientId: DEFAULT_EXTENSION_CLIENT_ID, redirectUri: EXTENSION_REDIRECT_URI, audience: DEFAULT_API_AUDIENCE,
        scope: `openid profile email chat ${PROJECTS_SCOPES.join(' ')}`, email: u.email, password: u.password,
      });
      creds[who].api = api.access_token;
      creds[who].myAccount = await myAccountToken(stack.idpUrl!, { email: u.email, password: u.password });
      creds[who].projects = (await exchange.get(api.access_token, u.sub, PROJECTS_AUDIENCE, [...PROJECTS_SCOPES])).token;
      for (const provider of ['google', 'slack', 'github'] as const) {
        const t = await obtainProviderToken({
          providersUrl: stack.providersUrl!, provider, ...upstream, redirectUri: `${issuer}connected-accounts/callback`, email: u.email, scopes: PROVIDER_SCOPES[provider],
        });
        creds[who][provider] = t.accessToken;
      }
    }
    creds.alice.backendClient = creds.bob.backendClient = `Basic ${Buffer.from(`deputy-backend:${stack.backendClientSecret}`).toString('base64')}`;

    const get = async (url: string, auth: string) => {
      const res = await fetch(url, { headers: { authorization: auth.startsWith('Basic ') ? auth : `Bearer ${auth}` } });
      return { status: res.status, body: (await res.text()).replace(/"(now|serverTime)":"[^"]*"/g, '') };
    };
    const aliceProjects = (await (await fetch(`${stack.projectsUrl}/projects`, { headers: { authorization: `Bearer ${creds.alice.projects}` } })).json()) as { projects: Array<{ id: string }> };
    const bobProjects = (await (await fetch(`${stack.projectsUrl}/projects`, { headers: { authorization: `Bearer ${creds.bob.projects}` } })).json()) as { projects: Array<{ id: string }> };

    // Bob has a conversation (and a run) of his own: the fuzzer aims at them with Alice's token.
    const bobChat = await fetch(`${stack.backendUrl}/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${creds.bob.api}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'hello, this is Bob' }),
    });
    const started = /"runId":"([^"]+)","threadId":"([^"]+)"/.exec(await bobChat.text());
    if (!started) throw new Error('Bob could not chat');

    // A document each: Alice's may change by her hand; Bob's may not. The FGA fuzzing gets a store of its own, so
    // that tuples it writes cannot change who may see what in the product's store.
    const createDoc = async (who: Who, title: string) => {
      const res = await fetch(`${stack.backendUrl}/v1/documents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${creds[who].api}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title, source: 'upload', contentType: 'text/plain', text: `${title}: private notes of ${who}.` }),
      });
      if (res.status !== 201) throw new Error(`creating a document for ${who}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    };
    const aliceDocumentId = await createDoc('alice', 'Alice plans');
    const bobDocumentId = await createDoc('bob', 'Bob salary review');
    const fuzzStore = (await (await fetch(`${stack.fgaUrl}/stores`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'fuzz' }) })).json()) as { id: string };

    const urls = {
      backend: stack.backendUrl,
      idp: stack.idpUrl!,
      model: stack.modelUrl!.replace(/\/v1$/, ''),
      projects: stack.projectsUrl!,
      providers: stack.providersUrl!,
      fga: stack.fgaUrl,
    };
    return {
      stack,
      dataDir,
      urls,
      credential: (kind, who = 'alice') => (kind === 'none' ? '' : creds[who][kind] ?? ''),
      known: {
        projectId: aliceProjects.projects[0]?.id ?? 'p1',
        bobProjectId: bobProjects.projects.find((p) => !aliceProjects.projects.some((a) => a.id === p.id))?.id ?? 'p2',
        aliceDocumentId,
        bobDocumentId,
        fgaStoreId: fuzzStore.id,
        bobRunId: started[1]!,
        bobThreadId: started[2]!,
        sub: users.alice.sub,
        email: users.alice.email,
      },
      secrets: () => [stack.backendClientSecret!, upstream.clientSecret, ...Object.values(creds.bob).filter((c) => !c.startsWith('Basic '))],
      snapshotBob: async () => {
        const b = creds.bob;
        const out: Record<string, unknown> = {};
        for (const p of ['/v1/threads', '/v1/approvals', '/v1/activity', '/v1/me', '/v1/documents', `/v1/documents/${bobDocumentId}`, `/v1/documents/${bobDocumentId}/shares`, '/v1/folders']) out[`backend ${p}`] = await get(`${stack.backendUrl}${p}`, b.api!);
        // Projects Alice is a member of may change by her hand; Bob's own ones may not.
        const bobOnly = bobProjects.projects.filter((p) => !aliceProjects.projects.some((a) => a.id === p.id));
        const listed = (await get(`${stack.projectsUrl}/projects`, b.projects!)).body;
        out.projects = (JSON.parse(listed) as { projects: Array<{ id: string }> }).projects.filter((p) => !aliceProjects.projects.some((a) => a.id === p.id));
        for (const p of bobOnly) out[`tasks ${p.id}`] = await get(`${stack.projectsUrl}/projects/${p.id}/tasks`, b.projects!);
        out.connected = await get(`${stack.idpUrl}/me/v1/connected-accounts/accounts`, b.myAccount!);
        out.calendar = await get(`${stack.providersUrl}/calendar/v3/calendars/primary/events`, b.google!);
        out.issues = await get(`${stack.providersUrl}/github/api/repos/bob-brown/notes/issues?state=all`, b.github!);
        return out;
      },
      close: async () => {
        await stack.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stack.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
