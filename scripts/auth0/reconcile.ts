/**
 * Reads the tenant, compares it with the spec field by field, and (with `apply`) creates what is missing and patches
 * what drifted. Without `apply` nothing is written: the same walk produces the plan. Order matters: APIs, then
 * clients (their ids are needed next), client grants, connections, and which clients may use each connection.
 */
import type { ManagementApi } from './management-api';
import { type ClientSpec, type ConnectionSpec, isFromEnv, type TenantSpec } from './spec';

export interface Change {
  field: string;
  from: unknown;
  to: unknown;
}

export interface Op {
  action: 'create' | 'update' | 'unchanged';
  kind: 'api' | 'client' | 'client-grant' | 'connection' | 'connection-clients';
  name: string;
  changes: Change[];
}

export interface ReconcileResult {
  ops: Op[];
  /** Client ids and secrets by ClientSpec key (undefined for a client the plan would create). */
  clients: Record<string, { clientId?: string; clientSecret?: string }>;
}

interface Rs {
  id: string;
  identifier: string;
  [k: string]: unknown;
}
interface Client {
  client_id: string;
  client_secret?: string;
  name: string;
  [k: string]: unknown;
}
interface Grant {
  id: string;
  client_id: string;
  audience: string;
  scope: string[];
  subject_type?: string;
}
interface Connection {
  id: string;
  name: string;
  strategy: string;
  options?: Record<string, unknown>;
  connected_accounts?: { active: boolean };
}

/** Does `current` already hold what `wanted` declares? Arrays of strings are sets; objects only by declared keys. */
export function satisfies(wanted: unknown, current: unknown): boolean {
  if (Array.isArray(wanted)) {
    if (!Array.isArray(current) || current.length !== wanted.length) return false;
    const canon = (a: unknown[]) => a.map((x) => stableJson(x)).sort();
    return canon(wanted).every((x, i) => x === canon(current)[i]);
  }
  if (wanted && typeof wanted === 'object') {
    if (!current || typeof current !== 'object' || Array.isArray(current)) return false;
    return Object.entries(wanted).every(([k, v]) => satisfies(v, (current as Record<string, unknown>)[k]));
  }
  return wanted === current;
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function diff(wanted: Record<string, unknown>, current: Record<string, unknown>, skip: string[] = []): Change[] {
  return Object.entries(wanted)
    .filter(([k, v]) => !skip.includes(k) && !satisfies(v, current[k]))
    .map(([field, to]) => ({ field, from: current[field], to }));
}

export function resolveOptions(c: ConnectionSpec, env: Record<string, string | undefined>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(c.options).map(([k, v]) => {
      if (!isFromEnv(v)) return [k, v];
      const value = env[v.env] ?? v.default;
      if (value === undefined) throw new Error(`Connection ${c.name}: set ${v.env} (its "${k}")`);
      return [k, value];
    }),
  );
}

export async function reconcile(
  spec: TenantSpec,
  api: ManagementApi,
  opts: { apply: boolean; env: Record<string, string | undefined> },
): Promise<ReconcileResult> {
  const ops: Op[] = [];
  const clients: ReconcileResult['clients'] = {};

  // APIs (resource servers), found by identifier.
  const servers = await api.list<Rs>('/resource-servers', 'resource_servers');
  for (const a of spec.apis) {
    const current = servers.find((s) => s.identifier === a.body.identifier);
    if (!current) {
      ops.push({ action: 'create', kind: 'api', name: a.body.identifier, changes: [] });
      if (opts.apply) await api.request('POST', '/resource-servers', a.body);
      continue;
    }
    const changes = diff(a.body, current, ['identifier']);
    ops.push({ action: changes.length ? 'update' : 'unchanged', kind: 'api', name: a.body.identifier, changes });
    if (opts.apply && changes.length) {
      await api.request('PATCH', `/resource-servers/${encodeURIComponent(current.id)}`, Object.fromEntries(changes.map((c) => [c.field, c.to])));
    }
  }

  // Clients, found by name.
  const existing = await api.list<Client>('/clients', 'clients');
  for (const c of spec.clients) {
    clients[c.key] = await reconcileClient(c, existing, api, opts.apply, ops);
  }
  const idOf = (key: string) => {
    const id = clients[key]?.clientId;
    if (id) return id;
    if (!spec.clients.some((c) => c.key === key)) throw new Error(`Unknown client "${key}" in the tenant spec`);
    return undefined;
  };

  // Client grants, by client and audience.
  for (const g of spec.clientGrants) {
    const clientId = idOf(g.client);
    const name = `${g.client} → ${g.audience}`;
    const current = clientId
      ? (await api.list<Grant>('/client-grants', 'client_grants', { client_id: clientId, audience: g.audience })).find(
          (x) => x.client_id === clientId && x.audience === g.audience,
        )
      : undefined;
    if (!current) {
      ops.push({ action: 'create', kind: 'client-grant', name, changes: [] });
      if (opts.apply) {
        await api.request('POST', '/client-grants', {
          client_id: clientId ?? idOf(g.client),
          audience: g.audience,
          scope: g.scope,
          ...(g.subject_type ? { subject_type: g.subject_type } : {}),
        });
      }
      continue;
    }
    const changes = diff({ scope: g.scope }, current as unknown as Record<string, unknown>);
    ops.push({ action: changes.length ? 'update' : 'unchanged', kind: 'client-grant', name, changes });
    if (opts.apply && changes.length) await api.request('PATCH', `/client-grants/${encodeURIComponent(current.id)}`, { scope: g.scope });
  }

  // Connections, by name; then which applications may use each.
  for (const c of spec.connections) {
    const options = resolveOptions(c, opts.env);
    const found = (await api.list<Connection>('/connections', 'connections', { name: c.name })).find((x) => x.name === c.name);
    let connectionId = found?.id;
    if (!found) {
      ops.push({ action: 'create', kind: 'connection', name: c.name, changes: [] });
      if (opts.apply) {
        const created = await api.request<Connection>('POST', '/connections', {
          name: c.name,
          strategy: c.strategy,
          options,
          ...(c.connected_accounts ? { connected_accounts: c.connected_accounts } : {}),
        });
        connectionId = created.id;
      }
    } else {
      if (found.strategy !== c.strategy) {
        throw new Error(`Connection ${c.name} exists with strategy "${found.strategy}", not "${c.strategy}": rename one of them.`);
      }
      const compared = Object.fromEntries(Object.entries(options).filter(([k]) => !(c.secretOptions ?? []).includes(k)));
      const changes = diff({ options: compared, ...(c.connected_accounts ? { connected_accounts: c.connected_accounts } : {}) }, found as unknown as Record<string, unknown>);
      ops.push({ action: changes.length ? 'update' : 'unchanged', kind: 'connection', name: c.name, changes });
      if (opts.apply && changes.length) {
        const body: Record<string, unknown> = {};
        // PATCH replaces `options` as a whole: keep what is there (secrets included) and change what drifted.
        if (changes.some((x) => x.field === 'options')) body.options = { ...(found.options ?? {}), ...compared };
        if (changes.some((x) => x.field === 'connected_accounts')) body.connected_accounts = c.connected_accounts;
        await api.request('PATCH', `/connections/${encodeURIComponent(found.id)}`, body);
      }
    }

    const wantedIds = c.enabledClients.map((k) => idOf(k));
    const enabled = found ? await enabledClientsOf(api, found.id) : [];
    const missing = c.enabledClients.filter((k, i) => !wantedIds[i] || !enabled.includes(wantedIds[i]!));
    ops.push({
      action: missing.length ? 'update' : 'unchanged',
      kind: 'connection-clients',
      name: c.name,
      changes: missing.length ? [{ field: 'enabled clients', from: enabled.length, to: `+ ${missing.join(', ')}` }] : [],
    });
    if (opts.apply && missing.length && connectionId) {
      await api.request(
        'PATCH',
        `/connections/${encodeURIComponent(connectionId)}/clients`,
        missing.map((k) => ({ client_id: idOf(k), status: true })),
      );
    }
  }

  return { ops, clients };
}

/** `GET /connections/{id}/clients` is cursor-paged (`take`, `from` = the previous page's `next`). */
async function enabledClientsOf(api: ManagementApi, connectionId: string): Promise<string[]> {
  const ids: string[] = [];
  let from: string | undefined;
  for (let i = 0; i < 100; i++) {
    const qs = new URLSearchParams({ take: '100', ...(from ? { from } : {}) });
    const page = await api.request<{ clients?: Array<{ client_id: string }>; next?: string }>('GET', `/connections/${encodeURIComponent(connectionId)}/clients?${qs}`);
    ids.push(...(page.clients ?? []).map((x) => x.client_id));
    if (!page.next) break;
    from = page.next;
  }
  return ids;
}

async function reconcileClient(c: ClientSpec, existing: Client[], api: ManagementApi, apply: boolean, ops: Op[]) {
  const current = existing.filter((x) => x.name === c.body.name);
  if (current.length > 1) throw new Error(`Several clients are named "${c.body.name}": rename all but one, then run again.`);
  if (!current[0]) {
    ops.push({ action: 'create', kind: 'client', name: c.body.name, changes: [] });
    if (!apply) return { clientId: undefined, clientSecret: undefined };
    const created = await api.request<Client>('POST', '/clients', c.body);
    return { clientId: created.client_id, clientSecret: created.client_secret };
  }
  const changes = diff(c.body, current[0]);
  ops.push({ action: changes.length ? 'update' : 'unchanged', kind: 'client', name: c.body.name, changes });
  if (apply && changes.length) {
    await api.request('PATCH', `/clients/${encodeURIComponent(current[0].client_id)}`, Object.fromEntries(changes.map((x) => [x.field, x.to])));
  }
  return { clientId: current[0].client_id, clientSecret: current[0].client_secret };
}

/** The plan as lines a person reads before saying yes. */
export function formatPlan(ops: Op[]): string[] {
  const lines: string[] = [];
  for (const op of ops) {
    if (op.action === 'unchanged') continue;
    lines.push(`${op.action === 'create' ? '+ create' : '~ update'} ${op.kind} ${op.name}`);
    for (const c of op.changes) lines.push(`    ${c.field}: ${short(c.from)} → ${short(c.to)}`);
  }
  const unchanged = ops.filter((o) => o.action === 'unchanged').length;
  lines.push(lines.length ? `(${unchanged} already as declared)` : `Nothing to change: all ${unchanged} entries are as declared.`);
  return lines;
}

function short(v: unknown): string {
  if (v === undefined) return '(unset)';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
