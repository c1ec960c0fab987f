/**
 * A local fake of exactly the Auth0 Management API v2 endpoints `auth0:bootstrap` calls, with Auth0's shapes and
 * rules: client-credentials token for audience `{base}/api/v2/`, bearer checks, page/per_page/include_totals
 * listing, 409 on duplicates, 404 on unknown references, `identifier` immutable, connection `options` replaced as a
 * whole on PATCH, connection clients at `/connections/{id}/clients`. State is inspectable so tests can drift it.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';

type Obj = Record<string, any>;

export interface FakeManagementApi {
  url: string;
  credentials: { clientId: string; clientSecret: string };
  state: { resourceServers: Obj[]; clients: Obj[]; clientGrants: Obj[]; connections: Obj[]; connectionClients: Map<string, Set<string>> };
  /** Every Management API request: method and path (no query). */
  requests: Array<{ method: string; path: string }>;
  writes(): Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

const id = (prefix: string, n = 16) => `${prefix}${randomBytes(n).toString('hex').slice(0, n)}`;

export async function startFakeManagementApi(options: { withMyAccountApi?: boolean } = {}): Promise<FakeManagementApi> {
  const credentials = { clientId: id('m2m', 24), clientSecret: randomBytes(24).toString('base64url') };
  const state: FakeManagementApi['state'] = { resourceServers: [], clients: [], clientGrants: [], connections: [], connectionClients: new Map() };
  const requests: FakeManagementApi['requests'] = [];
  const tokens = new Set<string>();
  let base = '';

  const app = new Hono();
  const err = (c: Context, status: number, message: string, errorCode?: string) =>
    c.json({ statusCode: status, error: { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict' }[status] ?? 'Error', message, ...(errorCode ? { errorCode } : {}) }, status as 400);
  const body = async (c: Context): Promise<any> => {
    try {
      return await c.req.json();
    } catch {
      return undefined;
    }
  };
  const page = (c: Context, key: string, items: Obj[]) => {
    const p = Number(c.req.query('page') ?? 0);
    const per = Math.min(Number(c.req.query('per_page') ?? 50), 100);
    const slice = items.slice(p * per, p * per + per);
    return c.req.query('include_totals') === 'true' ? c.json({ start: p * per, limit: per, total: items.length, [key]: slice }) : c.json(slice);
  };

  app.post('/oauth/token', async (c) => {
    const b = await body(c);
    if (b?.grant_type !== 'client_credentials') return c.json({ error: 'unsupported_grant_type' }, 400);
    if (b.client_id !== credentials.clientId || b.client_secret !== credentials.clientSecret) {
      return c.json({ error: 'access_denied', error_description: 'Unauthorized' }, 401);
    }
    if (b.audience !== `${base}/api/v2/`) return c.json({ error: 'access_denied', error_description: `Service not found: ${b.audience}` }, 403);
    const token = randomBytes(24).toString('base64url');
    tokens.add(token);
    return c.json({ access_token: token, token_type: 'Bearer', expires_in: 86400 });
  });

  app.use('/api/v2/*', async (c, next) => {
    requests.push({ method: c.req.method, path: c.req.path.replace(/^\/api\/v2/, '') });
    const auth = c.req.header('authorization') ?? '';
    if (!auth.startsWith('Bearer ') || !tokens.has(auth.slice(7))) return err(c, 401, 'Invalid token');
    await next();
  });

  // Resource servers
  app.get('/api/v2/resource-servers', (c) => page(c, 'resource_servers', state.resourceServers));
  app.post('/api/v2/resource-servers', async (c) => {
    const b = await body(c);
    if (!b?.identifier) return err(c, 400, 'Payload validation error: Missing required property: identifier');
    if (state.resourceServers.some((r) => r.identifier === b.identifier)) return err(c, 409, 'A resource server with the same identifier already exists', 'inexistent_resource_server');
    const rs = { signing_alg: 'RS256', token_dialect: 'access_token', allow_offline_access: false, token_lifetime: 86400, scopes: [], is_system: false, ...b, id: id('', 24) };
    state.resourceServers.push(rs);
    return c.json(rs, 201);
  });
  app.patch('/api/v2/resource-servers/:id', async (c) => {
    const rs = state.resourceServers.find((r) => r.id === c.req.param('id') || r.identifier === c.req.param('id'));
    if (!rs) return err(c, 404, 'Resource server not found');
    const b = await body(c);
    if ('identifier' in (b ?? {})) return err(c, 400, "Payload validation error: 'Additional properties not allowed: identifier'.");
    if (rs.is_system) return err(c, 400, 'System resource servers cannot be updated');
    Object.assign(rs, b);
    return c.json(rs);
  });

  // Clients
  app.get('/api/v2/clients', (c) => page(c, 'clients', state.clients));
  app.post('/api/v2/clients', async (c) => {
    const b = await body(c);
    if (!b?.name) return err(c, 400, 'Payload validation error: Missing required property: name');
    if (b.app_type === 'resource_server' && !state.resourceServers.some((r) => r.identifier === b.resource_server_identifier)) {
      return err(c, 404, 'No resource server found by specified identifier');
    }
    const client = {
      grant_types: ['authorization_code', 'implicit', 'refresh_token', 'client_credentials'],
      callbacks: [],
      ...b,
      client_id: id('', 32),
      ...(b.token_endpoint_auth_method === 'none' ? {} : { client_secret: randomBytes(32).toString('base64url') }),
    };
    state.clients.push(client);
    return c.json(client, 201);
  });
  app.patch('/api/v2/clients/:id', async (c) => {
    const client = state.clients.find((x) => x.client_id === c.req.param('id'));
    if (!client) return err(c, 404, 'Client not found', 'inexistent_client');
    Object.assign(client, await body(c));
    return c.json(client);
  });

  // Client grants
  app.get('/api/v2/client-grants', (c) => {
    const cid = c.req.query('client_id');
    const aud = c.req.query('audience');
    return page(c, 'client_grants', state.clientGrants.filter((g) => (!cid || g.client_id === cid) && (!aud || g.audience === aud)));
  });
  app.post('/api/v2/client-grants', async (c) => {
    const b = await body(c);
    if (!state.clients.some((x) => x.client_id === b?.client_id)) return err(c, 404, 'Client not found', 'inexistent_client');
    if (!state.resourceServers.some((r) => r.identifier === b.audience)) return err(c, 404, `No resource server found by specified audience: ${b.audience}`, 'inexistent_resource_server');
    if (state.clientGrants.some((g) => g.client_id === b.client_id && g.audience === b.audience)) return err(c, 409, 'A client grant for this client and audience already exists', 'client_grant_conflict');
    const grant = { subject_type: 'client', ...b, id: id('cgr_') };
    state.clientGrants.push(grant);
    return c.json(grant, 201);
  });
  app.patch('/api/v2/client-grants/:id', async (c) => {
    const g = state.clientGrants.find((x) => x.id === c.req.param('id'));
    if (!g) return err(c, 404, 'Client grant not found');
    const b = await body(c);
    if ('audience' in (b ?? {}) || 'client_id' in (b ?? {})) return err(c, 400, 'Payload validation error: audience and client_id cannot be changed');
    Object.assign(g, b);
    return c.json(g);
  });

  // Connections
  app.get('/api/v2/connections', (c) => {
    const name = c.req.query('name');
    const strategy = c.req.query('strategy');
    return page(c, 'connections', state.connections.filter((x) => (!name || x.name === name) && (!strategy || x.strategy === strategy)));
  });
  app.post('/api/v2/connections', async (c) => {
    const b = await body(c);
    if (!b?.name || !b.strategy) return err(c, 400, 'Payload validation error: name and strategy are required');
    if (state.connections.some((x) => x.name === b.name)) return err(c, 409, 'A connection with the same name already exists', 'connection_conflict');
    const conn = { options: {}, ...b, id: id('con_') };
    state.connections.push(conn);
    state.connectionClients.set(conn.id, new Set());
    return c.json(conn, 201);
  });
  app.patch('/api/v2/connections/:id', async (c) => {
    const conn = state.connections.find((x) => x.id === c.req.param('id'));
    if (!conn) return err(c, 404, 'The connection does not exist', 'inexistent_connection');
    const b = await body(c);
    if ('name' in (b ?? {}) || 'strategy' in (b ?? {})) return err(c, 400, "Payload validation error: 'Additional properties not allowed: name,strategy'.");
    // Auth0 replaces the whole options object.
    Object.assign(conn, b);
    return c.json(conn);
  });
  app.get('/api/v2/connections/:id/clients', (c) => {
    const set = state.connectionClients.get(c.req.param('id'));
    if (!set) return err(c, 404, 'The connection does not exist', 'inexistent_connection');
    return c.json({ clients: [...set].map((client_id) => ({ client_id })) });
  });
  app.patch('/api/v2/connections/:id/clients', async (c) => {
    const set = state.connectionClients.get(c.req.param('id'));
    if (!set) return err(c, 404, 'The connection does not exist', 'inexistent_connection');
    const b = await body(c);
    if (!Array.isArray(b)) return err(c, 400, 'Payload validation error: expected an array');
    for (const x of b) {
      if (!state.clients.some((cl) => cl.client_id === x.client_id)) return err(c, 404, 'Client not found', 'inexistent_client');
      if (x.status) set.add(x.client_id);
      else set.delete(x.client_id);
    }
    return c.body(null, 204);
  });

  app.all('/api/v2/*', (c) => err(c, 404, 'Not Found'));

  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.resourceServers.push({ id: id('', 24), name: 'Auth0 Management API', identifier: `${base}/api/v2/`, is_system: true, scopes: [] });
  if (options.withMyAccountApi !== false) {
    state.resourceServers.push({ id: id('', 24), name: 'Auth0 My Account API', identifier: `${base}/me/`, is_system: true, scopes: [] });
  }

  return {
    url: base,
    credentials,
    state,
    requests,
    writes: () => requests.filter((r) => r.method !== 'GET'),
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
