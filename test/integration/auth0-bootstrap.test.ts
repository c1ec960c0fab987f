/** `npm run auth0:bootstrap` against a local fake of the Management API endpoints it calls. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REGISTERED_DETAIL_TYPES } from '../../lib/authorization-details';
import { CIBA_GRANT, DEFAULT_API_AUDIENCE, EXTENSION_REDIRECT_URI, FEDERATED_CONNECTION_GRANT, FIREFOX_REDIRECT_URI, PROJECTS_AUDIENCE } from '../../lib/defaults';
import { runBootstrap } from '../../scripts/auth0-bootstrap';
import { type FakeManagementApi, startFakeManagementApi } from '../helpers/fake-auth0-management';

let fake: FakeManagementApi;
let out: string[];

const providerEnv = {
  GOOGLE_OAUTH_CLIENT_ID: 'google-app.apps.googleusercontent.com',
  GOOGLE_OAUTH_CLIENT_SECRET: 'google-secret-1',
  SLACK_OAUTH_CLIENT_ID: 'slack-app',
  SLACK_OAUTH_CLIENT_SECRET: 'slack-secret-1',
  GITHUB_OAUTH_CLIENT_ID: 'github-app',
  GITHUB_OAUTH_CLIENT_SECRET: 'github-secret-1',
};
const env = () => ({ AUTH0_DOMAIN: fake.url, AUTH0_MGMT_CLIENT_ID: fake.credentials.clientId, AUTH0_MGMT_CLIENT_SECRET: fake.credentials.clientSecret, ...providerEnv });
const run = (apply: boolean, extra: Partial<Parameters<typeof runBootstrap>[0]> = {}) =>
  runBootstrap({ env: env(), apply, print: (l) => out.push(l), ...extra });

beforeEach(async () => {
  fake = await startFakeManagementApi();
  out = [];
});
afterEach(async () => {
  await fake.close();
});

describe('auth0:bootstrap', () => {
  it('shows the plan and changes nothing without --apply', async () => {
    const r = await run(false);
    expect(r.applied).toBe(false);
    expect(r.changes).toBeGreaterThan(0);
    expect(fake.writes()).toEqual([]);
    expect(out.join('\n')).toMatch(/\+ create api https:\/\/api\.deputy\.local\//);
    expect(out.join('\n')).toMatch(/Run again with --apply/);
  });

  it('asks before changing anything when no --apply is given, and respects "no"', async () => {
    const questions: string[] = [];
    const r = await run(false, { confirm: async (q) => (questions.push(q), false) });
    expect(questions).toHaveLength(1);
    expect(r.applied).toBe(false);
    expect(fake.writes()).toEqual([]);
  });

  it('creates everything on the first run, exactly as declared', async () => {
    const r = await run(true);
    expect(r.applied).toBe(true);
    const { resourceServers, clients, clientGrants, connections, connectionClients } = fake.state;

    const deputy = resourceServers.find((x) => x.identifier === DEFAULT_API_AUDIENCE)!;
    expect(deputy.token_dialect).toBe('rfc9068_profile');
    expect(deputy.scopes).toEqual([{ value: 'chat', description: expect.any(String) }]);
    expect(deputy.authorization_details.map((d: { type: string }) => d.type).sort()).toEqual(Object.keys(REGISTERED_DETAIL_TYPES[DEFAULT_API_AUDIENCE]).sort());
    const projects = resourceServers.find((x) => x.identifier === PROJECTS_AUDIENCE)!;
    expect(projects.authorization_details.map((d: { type: string }) => d.type).sort()).toEqual(Object.keys(REGISTERED_DETAIL_TYPES[PROJECTS_AUDIENCE]).sort());

    const spa = clients.find((c) => c.name === 'Deputy browser extension')!;
    expect(spa).toMatchObject({ app_type: 'spa', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] });
    expect(spa.callbacks).toEqual([EXTENSION_REDIRECT_URI, FIREFOX_REDIRECT_URI]);
    expect(spa.allowed_origins).toEqual(['chrome-extension://gpojcpckenaidmecijbacgbidpgallhb']);
    expect(spa.client_secret).toBeUndefined();
    const backend = clients.find((c) => c.name === 'Deputy backend')!;
    expect(backend.grant_types).toEqual(expect.arrayContaining([FEDERATED_CONNECTION_GRANT, CIBA_GRANT]));
    expect(backend).toMatchObject({ app_type: 'resource_server', resource_server_identifier: DEFAULT_API_AUDIENCE });

    expect(clientGrants).toEqual([expect.objectContaining({ client_id: spa.client_id, audience: `${fake.url}/me/`, subject_type: 'user' })]);
    expect(connections.map((c) => c.name).sort()).toEqual(['github', 'google-oauth2', 'sign-in-with-slack']);
    for (const c of connections) {
      expect(c.connected_accounts).toEqual({ active: true });
      expect([...connectionClients.get(c.id)!].sort()).toEqual([spa.client_id, backend.client_id].sort());
    }
    expect(connections.find((c) => c.name === 'google-oauth2')!.options.client_secret).toBe('google-secret-1');

    // The environment the backend needs, with the secret masked on screen.
    expect(r.env).toMatchObject({ AUTH0_DOMAIN: fake.url, AUTH0_AUDIENCE: DEFAULT_API_AUDIENCE, AUTH0_EXTENSION_CLIENT_ID: spa.client_id, AUTH0_BACKEND_CLIENT_ID: backend.client_id });
    expect(out.join('\n')).not.toContain(backend.client_secret);
  });

  it('is a no-op on the second run: reads only, writes nothing', async () => {
    await run(true);
    const before = fake.requests.length;
    const second = await run(true);
    expect(second.changes).toBe(0);
    expect(fake.requests.slice(before).filter((x) => x.method !== 'GET')).toEqual([]);
    expect(out.join('\n')).toMatch(/Nothing to change/);
  });

  it('patches only the field that drifted, and keeps the connection secret it cannot see in the plan', async () => {
    await run(true);
    const deputy = fake.state.resourceServers.find((x) => x.identifier === DEFAULT_API_AUDIENCE)!;
    deputy.token_dialect = 'access_token';
    const spa = fake.state.clients.find((c) => c.name === 'Deputy browser extension')!;
    spa.callbacks = [...spa.callbacks, 'https://evil.example/cb'];
    const google = fake.state.connections.find((c) => c.name === 'google-oauth2')!;
    google.options = { ...google.options, scope: ['email'] };
    const before = fake.requests.length;
    out = [];

    const plan = await run(false);
    expect(plan.changes).toBe(3);
    expect(out.join('\n')).toMatch(/~ update api https:\/\/api\.deputy\.local\/\n\s+token_dialect: access_token → rfc9068_profile/);

    await run(true);
    const writes = fake.requests.slice(before).filter((x) => x.method !== 'GET');
    expect(writes).toEqual([
      { method: 'PATCH', path: `/resource-servers/${deputy.id}` },
      { method: 'PATCH', path: `/clients/${spa.client_id}` },
      { method: 'PATCH', path: `/connections/${google.id}` },
    ]);
    expect(deputy.token_dialect).toBe('rfc9068_profile');
    expect(spa.callbacks).not.toContain('https://evil.example/cb');
    expect(google.options.client_secret).toBe('google-secret-1');
    expect(google.options.scope).toContain('https://www.googleapis.com/auth/calendar.readonly');
  });

  it('finds its clients on later pages of a large tenant instead of creating duplicates', async () => {
    await run(true);
    const ours = fake.state.clients.splice(0);
    for (let i = 0; i < 120; i++) fake.state.clients.push({ client_id: `other${i}`, name: `Other app ${i}`, app_type: 'regular_web' });
    fake.state.clients.push(...ours);
    const second = await run(true);
    expect(second.changes).toBe(0);
    expect(fake.state.clients.filter((c) => c.name.startsWith('Deputy'))).toHaveLength(2);
  });

  it('writes the full environment, secret included, only to a 0600 file', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-bootstrap-')), '.env.auth0');
    await run(true, { writeEnvFile: file });
    const backend = fake.state.clients.find((c) => c.name === 'Deputy backend')!;
    expect(fs.readFileSync(file, 'utf8')).toContain(`AUTH0_BACKEND_CLIENT_SECRET=${backend.client_secret}`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it('fails with a clear message for missing credentials, bad credentials, or a missing provider secret', async () => {
    await expect(runBootstrap({ env: { AUTH0_DOMAIN: fake.url }, apply: false, print: () => {} })).rejects.toThrow(/Set AUTH0_MGMT_CLIENT_ID, AUTH0_MGMT_CLIENT_SECRET/);
    await expect(run(false, { env: { ...env(), AUTH0_MGMT_CLIENT_SECRET: 'wrong' } })).rejects.toThrow(/POST \/oauth\/token: 401/);
    const { GITHUB_OAUTH_CLIENT_SECRET: _, ...withoutGithub } = env();
    await expect(run(true, { env: withoutGithub })).rejects.toThrow(/Connection github: set GITHUB_OAUTH_CLIENT_SECRET/);
  });
});
