/**
 * An OpenFGA-compatible HTTP server (the v1 API `@openfga/sdk` speaks): stores, authorization models, tuples,
 * changes, Check, BatchCheck, ListObjects, ListUsers and Expand, with OpenFGA's JSON shapes and error codes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FgaError, invalidContinuationToken, invalidTuple, relationNotFound, show, typeNotFound, validationError } from './errors';
import { Evaluation, type UserFilter } from './evaluator';
import type { CompiledModel } from './model';
import { FgaState, isUlid, type StoreState } from './state';
import { OverlayReader, parseObject, parseSubject, toTuple, tupleJson, tupleKeyString, tupleProblem, TupleIndex, type Subject, type TupleKeyJson, type TupleReader } from './tuples';

export interface FgaServerOptions {
  port: number;
  host?: string;
  /** Journal directory; in memory when absent. */
  dataDir?: string;
  log?: (line: string) => void;
  /** OpenFGA's defaults: 100 tuples per write, 1000 ListObjects / ListUsers results, 50 checks per BatchCheck. */
  maxTuplesPerWrite?: number;
  listObjectsMaxResults?: number;
  listUsersMaxResults?: number;
  maxChecksPerBatchCheck?: number;
}

export interface FgaServer {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const MAX_CONTEXTUAL_TUPLES = 100;
const CONSISTENCY = new Set(['UNSPECIFIED', 'MINIMIZE_LATENCY', 'HIGHER_CONSISTENCY']);

type Json = Record<string, unknown>;
type Handler = (params: string[], body: Json, query: URLSearchParams) => HandlerResult;
type HandlerResult = { status?: number; body?: unknown; ndjson?: unknown[] };

const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

function pageSize(raw: unknown, fallback = 50): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new FgaError(400, 'page_size_invalid', 'page_size must be between 1 and 100');
  return n;
}

const encodeToken = (offset: number, kind: string) => Buffer.from(JSON.stringify({ kind, offset })).toString('base64url');
function decodeToken(raw: unknown, kind: string): number {
  if (raw === undefined || raw === null || raw === '') return 0;
  try {
    if (typeof raw !== 'string') throw new Error('not a string');
    const t = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { kind?: string; offset?: number };
    if (t.kind !== kind || !Number.isInteger(t.offset) || t.offset! < 0) throw new Error('bad token');
    return t.offset!;
  } catch {
    throw invalidContinuationToken();
  }
}

function page<T>(items: T[], size: number, offset: number, kind: string) {
  const slice = items.slice(offset, offset + size);
  const next = offset + size < items.length ? encodeToken(offset + size, kind) : '';
  return { slice, continuation_token: next };
}

function tupleKeyOf(raw: unknown, where: string): TupleKeyJson {
  if (!isObj(raw)) throw validationError(`invalid ${where}: a tuple key must be an object`);
  for (const f of ['object', 'relation', 'user'] as const) {
    if (typeof raw[f] !== 'string' || !raw[f]) throw validationError(`invalid ${where}.${f[0].toUpperCase()}${f.slice(1)}: value length must be at least 1 runes`);
  }
  const key: TupleKeyJson = { object: raw.object as string, relation: raw.relation as string, user: raw.user as string };
  // OpenFGA's field limits.
  if (key.object.length > 256) throw validationError(`invalid ${where}.Object: value length must be at most 256 bytes`);
  if (key.relation.length > 50) throw validationError(`invalid ${where}.Relation: value length must be at most 50 bytes`);
  if (key.user.length > 512) throw validationError(`invalid ${where}.User: value length must be at most 512 bytes`);
  if (raw.condition !== undefined && raw.condition !== null) {
    if (!isObj(raw.condition) || typeof raw.condition.name !== 'string') throw validationError(`invalid ${where}.Condition: a condition needs a name`);
    if (raw.condition.context !== undefined && raw.condition.context !== null && !isObj(raw.condition.context)) {
      throw validationError(`invalid ${where}.Condition.Context: must be an object`);
    }
    key.condition = { name: raw.condition.name, ...(isObj(raw.condition.context) ? { context: raw.condition.context } : {}) };
  }
  return key;
}

/** `contextual_tuples` is `{ tuple_keys: [...] }` in Check/ListObjects and a bare array in ListUsers; accept both. */
function contextualTuplesOf(raw: unknown): TupleKeyJson[] {
  if (raw === undefined || raw === null) return [];
  const list = Array.isArray(raw) ? raw : isObj(raw) ? (raw.tuple_keys ?? []) : undefined;
  if (!Array.isArray(list)) throw validationError('contextual_tuples must be a list of tuple keys or { tuple_keys: [...] }');
  if (list.length > MAX_CONTEXTUAL_TUPLES) throw validationError(`contextual_tuples must contain at most ${MAX_CONTEXTUAL_TUPLES} items`);
  return list.map((t, i) => tupleKeyOf(t, `ContextualTupleKeys.TupleKeys[${i}]`));
}

function contextOf(raw: unknown): Json {
  if (raw === undefined || raw === null) return {};
  if (!isObj(raw)) throw validationError('context must be a JSON object');
  return raw;
}

function consistencyOf(raw: unknown) {
  if (raw !== undefined && raw !== null && !(typeof raw === 'string' && CONSISTENCY.has(raw))) {
    throw validationError(`invalid consistency '${show(raw)}': must be one of UNSPECIFIED, MINIMIZE_LATENCY, HIGHER_CONSISTENCY`);
  }
}

function modelIdOf(raw: unknown): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (!isUlid(raw)) throw validationError(`invalid authorization_model_id '${show(raw)}': value does not match regex pattern "^[ABCDEFGHJKMNPQRSTVWXYZ0-9]{26}$"`);
  return raw;
}

/** The store's tuples overlaid with the request's contextual tuples (validated against the model). */
function readerFor(store: StoreState, model: CompiledModel, contextual: TupleKeyJson[]): TupleReader {
  if (contextual.length === 0) return store.tuples;
  const overlay = new TupleIndex();
  const now = new Date().toISOString();
  for (const k of contextual) {
    const problem = tupleProblem(model, k);
    if (problem) throw invalidTuple(`Invalid tuple '${tupleKeyString(k)}'. Reason: ${problem}`);
    overlay.add(toTuple(k, now));
  }
  return new OverlayReader(store.tuples, overlay);
}

/** The user of a Check / ListObjects request, validated against the model (errors are `validation_error`). */
function requestSubject(model: CompiledModel, user: unknown): Subject {
  if (typeof user !== 'string' || !user) throw validationError('invalid TupleKey.User: value length must be at least 1 runes');
  const s = parseSubject(user);
  if (!s) throw validationError(`invalid 'user' field format: '${user}'`);
  const type = model.types.get(s.type);
  if (!type) throw validationError(`type '${s.type}' not found`);
  if (s.relation && !type.relations.has(s.relation)) throw validationError(`relation '${s.type}#${s.relation}' not found`);
  return s;
}

export function createFgaHandler(state: FgaState, opts: Required<Pick<FgaServerOptions, 'listObjectsMaxResults' | 'listUsersMaxResults' | 'maxChecksPerBatchCheck'>>) {
  const storeView = (s: StoreState) => ({ ...s.meta });

  /** One check, with the errors OpenFGA raises for it. `shared` (no contextual tuples, no context) memoises across a batch. */
  function runCheck(store: StoreState, model: CompiledModel, rawKey: unknown, contextualRaw: unknown, contextRaw: unknown, shared?: Evaluation) {
    const key = tupleKeyOf(rawKey, 'CheckRequestTupleKey');
    const obj = parseObject(key.object);
    if (!obj) throw validationError(`invalid 'object' field format: '${key.object}'`);
    const type = model.types.get(obj.type);
    if (!type) throw validationError(`type '${obj.type}' not found`);
    if (!type.relations.has(key.relation)) throw validationError(`relation '${obj.type}#${key.relation}' not found`);
    const subject = requestSubject(model, key.user);
    const contextual = contextualTuplesOf(contextualRaw);
    const context = contextOf(contextRaw);
    const ev =
      shared && contextual.length === 0 && Object.keys(context).length === 0
        ? shared
        : new Evaluation(model, readerFor(store, model, contextual), context);
    ev.conditionFailure = undefined;
    const allowed = ev.check(obj.type, obj.id, key.relation, subject);
    if (!allowed && ev.conditionFailure) throw ev.conditionFailure;
    return allowed;
  }

  const routes: Array<[string, RegExp, Handler]> = [
    [
      'POST',
      /^\/stores$/,
      (_p, body) => {
        const name = body.name;
        if (typeof name !== 'string' || name.length < 3 || name.length > 64) {
          throw validationError('invalid CreateStoreRequest.Name: the name must be 3 to 64 characters long');
        }
        return { status: 201, body: state.createStore(name) };
      },
    ],
    [
      'GET',
      /^\/stores$/,
      (_p, _b, q) => {
        const name = q.get('name');
        const all = [...state.stores.values()].filter((s) => !name || s.meta.name === name).map(storeView);
        const { slice, continuation_token } = page(all, pageSize(q.get('page_size')), decodeToken(q.get('continuation_token'), 'stores'), 'stores');
        return { body: { stores: slice, continuation_token } };
      },
    ],
    ['GET', /^\/stores\/([^/]+)$/, ([id]) => ({ body: storeView(state.store(id)) })],
    [
      'DELETE',
      /^\/stores\/([^/]+)$/,
      ([id]) => {
        state.deleteStore(id);
        return { status: 204 };
      },
    ],
    [
      'POST',
      /^\/stores\/([^/]+)\/authorization-models$/,
      ([id], body) => ({ status: 201, body: { authorization_model_id: state.writeModel(id, body) } }),
    ],
    [
      'GET',
      /^\/stores\/([^/]+)\/authorization-models$/,
      ([id], _b, q) => {
        const models = [...state.store(id).models].reverse().map((m) => m.json);
        const { slice, continuation_token } = page(models, pageSize(q.get('page_size')), decodeToken(q.get('continuation_token'), 'models'), 'models');
        return { body: { authorization_models: slice, continuation_token } };
      },
    ],
    [
      'GET',
      /^\/stores\/([^/]+)\/authorization-models\/([^/]+)$/,
      ([id, modelId]) => ({ body: { authorization_model: state.store(id).model(modelIdOf(modelId) ?? modelId).json } }),
    ],
    [
      'PUT',
      /^\/stores\/([^/]+)\/assertions\/([^/]+)$/,
      ([id, modelId], body) => {
        const model = state.store(id).model(modelIdOf(modelId) ?? modelId);
        const list = body.assertions ?? [];
        if (!Array.isArray(list) || list.length > 100) throw new FgaError(400, 'assertions_too_many_items', 'assertions must be a list of at most 100 items');
        for (const [i, a] of list.entries()) {
          if (!isObj(a) || typeof a.expectation !== 'boolean') throw validationError(`invalid assertion at index ${i}: expectation must be a boolean`);
          const key = tupleKeyOf(a.tuple_key, `Assertions[${i}].TupleKey`);
          const obj = parseObject(key.object);
          if (!obj || !model.types.get(obj.type)?.relations.has(key.relation)) throw validationError(`invalid assertion at index ${i}: '${tupleKeyString(key)}' does not fit the model`);
          requestSubject(model, key.user);
        }
        state.writeAssertions(id, model.id, list);
        return { status: 204 };
      },
    ],
    [
      'GET',
      /^\/stores\/([^/]+)\/assertions\/([^/]+)$/,
      ([id, modelId]) => {
        const model = state.store(id).model(modelIdOf(modelId) ?? modelId);
        return { body: { authorization_model_id: model.id, assertions: state.store(id).assertions.get(model.id) ?? [] } };
      },
    ],
    [
      'POST',
      /^\/stores\/([^/]+)\/write$/,
      ([id], body) => {
        const section = (raw: unknown, name: string) => {
          if (raw === undefined || raw === null) return { keys: [] as TupleKeyJson[], opts: {} as Json };
          if (!isObj(raw)) throw validationError(`${name} must be an object with tuple_keys`);
          const list = raw.tuple_keys ?? [];
          if (!Array.isArray(list)) throw validationError(`${name}.tuple_keys must be a list`);
          return { keys: list.map((t, i) => tupleKeyOf(t, `${name}.TupleKeys[${i}]`)), opts: raw };
        };
        const w = section(body.writes, 'writes');
        const d = section(body.deletes, 'deletes');
        const onDuplicate = w.opts.on_duplicate ?? 'error';
        const onMissing = d.opts.on_missing ?? 'error';
        if (onDuplicate !== 'error' && onDuplicate !== 'ignore') throw validationError(`invalid writes.on_duplicate '${show(onDuplicate)}': must be "error" or "ignore"`);
        if (onMissing !== 'error' && onMissing !== 'ignore') throw validationError(`invalid deletes.on_missing '${show(onMissing)}': must be "error" or "ignore"`);
        state.write(id, { writes: w.keys, deletes: d.keys, onDuplicate, onMissing, modelId: modelIdOf(body.authorization_model_id) });
        return { body: {} };
      },
    ],
    [
      'POST',
      /^\/stores\/([^/]+)\/read$/,
      ([id], body) => {
        const store = state.store(id);
        const size = pageSize(body.page_size);
        const offset = decodeToken(body.continuation_token, 'read');
        consistencyOf(body.consistency);
        const filter = isObj(body.tuple_key) ? body.tuple_key : {};
        const fObject = typeof filter.object === 'string' && filter.object ? filter.object : undefined;
        const fRelation = typeof filter.relation === 'string' && filter.relation ? filter.relation : undefined;
        const fUser = typeof filter.user === 'string' && filter.user ? filter.user : undefined;
        if (fObject === undefined && (fRelation || fUser)) {
          throw validationError('the tuple_key filter needs an object (type:id or type:) when relation or user is given');
        }
        const objType = fObject?.endsWith(':') ? fObject.slice(0, -1) : undefined;
        if (objType !== undefined && !fUser) throw validationError('the tuple_key filter needs a user when the object has no id');
        const matches = [];
        const scope = fObject && objType === undefined ? store.tuples.onObject(fObject) : store.tuples.byKey.values();
        for (const t of scope) {
          if (fObject && (objType !== undefined ? t.objectType !== objType : t.object !== fObject)) continue;
          if (fRelation && t.relation !== fRelation) continue;
          if (fUser && t.user !== fUser) continue;
          matches.push(t);
        }
        const { slice, continuation_token } = page(matches, size, offset, 'read');
        return { body: { tuples: slice.map((t) => ({ key: tupleJson(t), timestamp: t.timestamp })), continuation_token } };
      },
    ],
    [
      'POST',
      /^\/stores\/([^/]+)\/changes$/,
      ([id], body) => changes(id, body),
    ],
    [
      'GET',
      /^\/stores\/([^/]+)\/changes$/,
      ([id], _b, q) => changes(id, { type: q.get('type') ?? undefined, page_size: q.get('page_size') ?? undefined, continuation_token: q.get('continuation_token') ?? undefined, start_time: q.get('start_time') ?? undefined }),
    ],
    [
      'POST',
      /^\/stores\/([^/]+)\/check$/,
      ([id], body) => {
        const store = state.store(id);
        consistencyOf(body.consistency);
        const model = store.model(modelIdOf(body.authorization_model_id));
        if (!isObj(body.tuple_key)) throw validationError('invalid CheckRequest.TupleKey: value is required');
        const allowed = runCheck(store, model, body.tuple_key, body.contextual_tuples, body.context);
        return { body: { allowed, resolution: '' } };
      },
    ],
    [
      'POST',
      /^\/stores\/([^/]+)\/batch-check$/,
      ([id], body) => {
        const store = state.store(id);
        consistencyOf(body.consistency);
        const model = store.model(modelIdOf(body.authorization_model_id));
        const checks = body.checks;
        if (!Array.isArray(checks) || checks.length === 0) throw validationError('invalid BatchCheckRequest.Checks: value must contain at least 1 item(s)');
        if (checks.length > opts.maxChecksPerBatchCheck) {
          throw validationError(`batchCheck received ${checks.length} checks, the maximum allowed is ${opts.maxChecksPerBatchCheck}`);
        }
        const ids = new Set<string>();
        for (const c of checks) {
          const cid = isObj(c) ? c.correlation_id : undefined;
          if (typeof cid !== 'string' || !/^[\w\d-]{1,36}$/.test(cid)) throw validationError('invalid BatchCheckItem.CorrelationId: value does not match regex pattern "^[\\w\\d-]{1,36}$"');
          if (ids.has(cid)) throw validationError(`duplicate correlation_id provided: ${cid}`);
          ids.add(cid);
        }
        const result: Record<string, unknown> = {};
        const shared = new Evaluation(model, store.tuples, {});
        for (const c of checks as Json[]) {
          try {
            result[c.correlation_id as string] = { allowed: runCheck(store, model, c.tuple_key, c.contextual_tuples, c.context, shared) };
          } catch (err) {
            if (!(err instanceof FgaError)) throw err;
            result[c.correlation_id as string] = { allowed: false, error: { input_error: err.code, message: err.message } };
          }
        }
        return { body: { result } };
      },
    ],
    [
      'POST',
      /^\/stores\/([^/]+)\/list-objects$/,
      ([id], body) => ({ body: { objects: listObjects(id, body, opts.listObjectsMaxResults) } }),
    ],
    [
      // No result cap, as OpenFGA: one `{"result":{"object":...}}` line per object.
      'POST',
      /^\/stores\/([^/]+)\/streamed-list-objects$/,
      ([id], body) => ({ ndjson: listObjects(id, body, Infinity).map((object) => ({ result: { object } })) }),
    ],
    [
      'POST',
      /^\/stores\/([^/]+)\/list-users$/,
      ([id], body) => {
        const store = state.store(id);
        consistencyOf(body.consistency);
        const model = store.model(modelIdOf(body.authorization_model_id));
        const object = body.object;
        if (!isObj(object) || typeof object.type !== 'string' || typeof object.id !== 'string' || !object.type || !object.id) {
          throw validationError('invalid ListUsersRequest.Object: value is required ({ type, id })');
        }
        const relation = body.relation;
        if (typeof relation !== 'string' || !relation) throw validationError('invalid ListUsersRequest.Relation: value length must be at least 1 runes');
        const typeDef = model.types.get(object.type);
        if (!typeDef) throw typeNotFound(object.type);
        if (!typeDef.relations.has(relation)) throw relationNotFound(object.type, relation);
        const rawFilters = body.user_filters;
        if (!Array.isArray(rawFilters) || rawFilters.length !== 1) throw validationError('invalid ListUsersRequest.UserFilters: value must contain exactly 1 item(s)');
        const filters: UserFilter[] = rawFilters.map((f) => {
          if (!isObj(f) || typeof f.type !== 'string' || !f.type) throw validationError('invalid ListUsersRequest.UserFilters: each filter needs a type');
          const ft = model.types.get(f.type);
          if (!ft) throw typeNotFound(f.type);
          const rel = typeof f.relation === 'string' && f.relation ? f.relation : undefined;
          if (rel && !ft.relations.has(rel)) throw relationNotFound(f.type, rel);
          return { type: f.type, ...(rel ? { relation: rel } : {}) };
        });
        const reader = readerFor(store, model, contextualTuplesOf(body.contextual_tuples));
        const ev = new Evaluation(model, reader, contextOf(body.context));
        const users = ev.listUsers(object.type, object.id, relation, filters).slice(0, opts.listUsersMaxResults);
        return { body: { users } };
      },
    ],
    [
      'POST',
      /^\/stores\/([^/]+)\/expand$/,
      ([id], body) => {
        const store = state.store(id);
        consistencyOf(body.consistency);
        const model = store.model(modelIdOf(body.authorization_model_id));
        const key = body.tuple_key;
        if (!isObj(key) || typeof key.object !== 'string' || typeof key.relation !== 'string') throw validationError('invalid ExpandRequest.TupleKey: object and relation are required');
        const obj = parseObject(key.object);
        if (!obj) throw validationError(`invalid 'object' field format: '${key.object}'`);
        const typeDef = model.types.get(obj.type);
        if (!typeDef) throw validationError(`type '${obj.type}' not found`);
        if (!typeDef.relations.has(key.relation)) throw validationError(`relation '${obj.type}#${key.relation}' not found`);
        const reader = readerFor(store, model, contextualTuplesOf(body.contextual_tuples));
        const ev = new Evaluation(model, reader);
        return { body: { tree: { root: ev.expand(obj.type, obj.id, key.relation) } } };
      },
    ],
  ];

  function listObjects(id: string, body: Json, max: number): string[] {
    const store = state.store(id);
    consistencyOf(body.consistency);
    const model = store.model(modelIdOf(body.authorization_model_id));
    const type = body.type;
    const relation = body.relation;
    if (typeof type !== 'string' || !type) throw validationError('invalid ListObjectsRequest.Type: value is required');
    if (typeof relation !== 'string' || !relation) throw validationError('invalid ListObjectsRequest.Relation: value is required');
    const typeDef = model.types.get(type);
    if (!typeDef) throw typeNotFound(type);
    if (!typeDef.relations.has(relation)) throw relationNotFound(type, relation);
    const subject = requestSubject(model, body.user);
    const reader = readerFor(store, model, contextualTuplesOf(body.contextual_tuples));
    const ev = new Evaluation(model, reader, contextOf(body.context));
    const objects: string[] = [];
    for (const objectId of ev.listObjectIds(type, relation, subject)) {
      if (objects.length >= max) break;
      objects.push(`${type}:${objectId}`);
    }
    return objects;
  }

  function changes(id: string, body: Json) {
    const store = state.store(id);
    const size = pageSize(body.page_size);
    const type = typeof body.type === 'string' && body.type ? body.type : undefined;
    const from = decodeToken(body.continuation_token, `changes:${type ?? ''}`);
    let startTime: string | undefined;
    if (body.start_time !== undefined && body.start_time !== '') {
      const d = typeof body.start_time === 'string' ? new Date(body.start_time) : new Date(NaN);
      if (Number.isNaN(d.getTime())) throw new FgaError(400, 'invalid_start_time', 'start_time must be an RFC 3339 timestamp');
      startTime = d.toISOString();
    }
    const out = [];
    let last = from;
    for (let i = from; i < store.changes.length && out.length < size; i++) {
      const c = store.changes[i];
      last = i + 1;
      if (type && !c.tuple_key.object.startsWith(`${type}:`)) continue;
      if (startTime && c.timestamp < startTime) continue;
      out.push({ tuple_key: c.tuple_key, operation: c.operation, timestamp: c.timestamp });
    }
    return { body: { changes: out, continuation_token: encodeToken(last, `changes:${type ?? ''}`) } };
  }

  return function handle(method: string, pathname: string, body: Json, query: URLSearchParams): HandlerResult & { status: number } {
    let pathMatched = false;
    for (const [m, re, handler] of routes) {
      const match = re.exec(pathname);
      if (!match) continue;
      pathMatched = true;
      if (m !== method) continue;
      const res = handler(
        match.slice(1).map((x) => {
          try {
            return decodeURIComponent(x);
          } catch {
            throw validationError(`malformed path segment '${x}'`);
          }
        }),
        body,
        query,
      );
      return { ...res, status: res.status ?? 200 };
    }
    if (pathMatched) return { status: 405, body: { code: 'undefined_endpoint', message: `Method ${method} is not allowed on ${pathname}` } };
    return { status: 404, body: { code: 'undefined_endpoint', message: 'Not Found' } };
  };
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new FgaError(413, 'validation_error', `the request body exceeds ${MAX_BODY_BYTES} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startFgaServer(options: FgaServerOptions): Promise<FgaServer> {
  const state = new FgaState(options.dataDir, { maxTuplesPerWrite: options.maxTuplesPerWrite ?? 100 });
  const handle = createFgaHandler(state, {
    listObjectsMaxResults: options.listObjectsMaxResults ?? 1000,
    listUsersMaxResults: options.listUsersMaxResults ?? 1000,
    maxChecksPerBatchCheck: options.maxChecksPerBatchCheck ?? 50,
  });
  const log = options.log;

  const server = http.createServer(async (req, res) => {
    const started = performance.now();
    let status = 500;
    let payload: unknown;
    let ndjson: unknown[] | undefined;
    try {
      const url = new URL(req.url ?? '/', 'http://fga.local');
      let body: Json = {};
      if (req.method === 'POST' || req.method === 'PUT') {
        const raw = await readBody(req);
        if (raw.length) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(raw.toString('utf8'));
          } catch (err) {
            throw validationError(`the request body is not valid JSON: ${(err as Error).message}`);
          }
          if (!isObj(parsed)) throw validationError('the request body must be a JSON object');
          body = parsed;
        }
      }
      const out = handle(req.method ?? 'GET', url.pathname.replace(/\/+$/, '') || '/', body, url.searchParams);
      status = out.status;
      payload = out.body;
      ndjson = out.ndjson;
    } catch (err) {
      if (err instanceof FgaError) {
        status = err.status;
        payload = err.toJSON();
      } else {
        // Bad input must never surface as a 5xx: anything unexpected is reported as a validation problem.
        status = 400;
        payload = { code: 'validation_error', message: `the request could not be processed: ${(err as Error).message}` };
        log?.(`fga: unexpected error on ${req.method} ${req.url}: ${(err as Error).stack}`);
      }
    }
    const text = ndjson ? ndjson.map((line) => `${JSON.stringify(line)}\n`).join('') : payload === undefined ? '' : JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', ...(text ? { 'content-length': Buffer.byteLength(text) } : {}) });
    res.end(text);
    log?.(`fga ${req.method} ${req.url} ${status} ${(performance.now() - started).toFixed(1)}ms`);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
