/**
 * Taking access back: an owner can always remove a grant an editor made, even to a group the owner is not in
 * (before, revoking resolved the group through the caller's own membership and answered 404 `unknown_group`, so
 * the grant could not be removed by anyone outside that group). Sharing into a group stays limited to members.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpenFgaClient } from '@openfga/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fgaUser } from '../../backend/src/knowledge/fga-client';
import { FREE_PORTS, type RunningStack, startStack } from '../../backend/src/stack';
import { DocumentView, Problem, ShareList } from '../../lib/protocol';
import { extensionAccessToken } from '../helpers/pkce-login';

let stack: RunningStack;
let dataDir: string;
let alice: string;
let bob: string;
const GROUP = `design-${Date.now()}`;

const api = (p: string, token: string, init: RequestInit & { json?: unknown } = {}) =>
  fetch(`${stack.backendUrl}${p}`, {
    ...init,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    headers: { authorization: `Bearer ${token}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}) },
  });

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deputy-kb-revoke-'));
  stack = await startStack({ dataDir, ports: FREE_PORTS });
  const login = (who: string) => extensionAccessToken(stack.idpUrl!, stack.users.find((x) => x.username === who)!);
  alice = await login('alice');
  bob = await login('bob');
  await api('/v1/me', alice);
  await api('/v1/me', bob);
  // Bob alone is in the design group.
  const bobSub = stack.users.find((u) => u.username === 'bob')!.sub;
  await new OpenFgaClient({ apiUrl: stack.fgaUrl, storeId: stack.fgaStoreId }).write({ writes: [{ user: fgaUser(bobSub), relation: 'member', object: `group:${GROUP}` }] });
});

afterAll(async () => {
  await stack?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('revoking a grant an editor made', () => {
  it('the owner removes an editor’s share with a group the owner is not in', async () => {
    const created = await api('/v1/documents', alice, { method: 'POST', json: { title: 'Design review', source: 'upload', contentType: 'text/plain', text: 'Notes from the design review.' } });
    const doc = DocumentView.parse(await created.json());
    const shareBob = await api(`/v1/documents/${doc.id}/shares`, alice, { method: 'POST', json: { subject: { type: 'user', email: 'bob@example.com' }, relation: 'editor' } });
    expect(shareBob.status).toBe(201);

    // Alice is not in the group, so she cannot share into it...
    const aliceShares = await api(`/v1/documents/${doc.id}/shares`, alice, { method: 'POST', json: { subject: { type: 'group', id: GROUP }, relation: 'viewer' } });
    expect(aliceShares.status).toBe(404);
    expect(Problem.parse(await aliceShares.json()).code).toBe('unknown_group');
    // ...but bob, an editor and a member, can.
    expect((await api(`/v1/documents/${doc.id}/shares`, bob, { method: 'POST', json: { subject: { type: 'group', id: GROUP }, relation: 'viewer' } })).status).toBe(201);
    const listed = ShareList.parse(await (await api(`/v1/documents/${doc.id}/shares`, alice)).json());
    expect(listed.shares.some((s) => s.subject.type === 'group' && s.subject.id === GROUP)).toBe(true);

    // The owner sees the grant and removes it.
    const revoke = await api(`/v1/documents/${doc.id}/shares`, alice, { method: 'DELETE', json: { subject: { type: 'group', id: GROUP }, relation: 'viewer' } });
    expect(revoke.status).toBe(204);
    const after = ShareList.parse(await (await api(`/v1/documents/${doc.id}/shares`, alice)).json());
    expect(after.shares.some((s) => s.subject.type === 'group')).toBe(false);
  });

  it('revoking an unknown group answers the same as a known one (no group enumeration)', async () => {
    const created = await api('/v1/documents', alice, { method: 'POST', json: { title: 'Other', source: 'upload', contentType: 'text/plain', text: 'Other notes.' } });
    const doc = DocumentView.parse(await created.json());
    for (const id of [GROUP, 'no-such-group-xyz']) {
      expect((await api(`/v1/documents/${doc.id}/shares`, alice, { method: 'DELETE', json: { subject: { type: 'group', id }, relation: 'viewer' } })).status).toBe(204);
    }
    const bad = await api(`/v1/documents/${doc.id}/shares`, alice, { method: 'DELETE', json: { subject: { type: 'group', id: 'bad id#x' }, relation: 'viewer' } });
    expect(bad.status).toBe(404);
  });
});

describe('folder nesting stays within what FGA resolves', () => {
  it('folders nest 8 deep; a ninth level is refused with 422 before anything is written', async () => {
    let parent: string | undefined;
    for (let i = 1; i <= 8; i++) {
      const res = await api('/v1/folders', alice, { method: 'POST', json: { name: `level ${i}`, ...(parent ? { parentId: parent } : {}) } });
      expect(res.status).toBe(201);
      parent = ((await res.json()) as { id: string }).id;
    }
    const before = ((await (await api('/v1/folders', alice)).json()) as { folders: unknown[] }).folders.length;
    const ninth = await api('/v1/folders', alice, { method: 'POST', json: { name: 'level 9', parentId: parent } });
    expect(ninth.status).toBe(422);
    expect(Problem.parse(await ninth.json()).code).toBe('folder_too_deep');
    expect(((await (await api('/v1/folders', alice)).json()) as { folders: unknown[] }).folders.length).toBe(before);
  });
});
