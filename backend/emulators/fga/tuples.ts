/**
 * Relationship tuples: parsing and validation against a model, and the indexes the evaluator reads
 * (by object and relation for check, by object type, relation and user for list-objects).
 */
import { allowedKey, type CompiledModel } from './model';

export interface TupleCondition {
  name: string;
  context?: Record<string, unknown>;
}

export interface Tuple {
  object: string;
  objectType: string;
  objectId: string;
  relation: string;
  user: string;
  userType: string;
  userId: string;
  /** Set when the user is a userset (`group:eng#member`). */
  userRelation?: string;
  condition?: TupleCondition;
  timestamp: string;
  /** `allowedKey` of the user and condition, matched against a relation's type restrictions. */
  restriction: string;
}

export interface TupleKeyJson {
  object: string;
  relation: string;
  user: string;
  condition?: { name: string; context?: Record<string, unknown> };
}

export interface Subject {
  raw: string;
  type: string;
  id: string;
  relation?: string;
  wildcard: boolean;
}

const OBJECT = /^([^\s:#@*]+):([^\s#@]+)$/;
const USER = /^([^\s:#@*]+):([^\s#@]+)(?:#([^\s:#@*]+))?$/;

export function parseObject(object: string): { type: string; id: string } | undefined {
  const m = OBJECT.exec(object);
  if (!m || m[2] === '*' || m[2].includes(':')) return undefined;
  return { type: m[1], id: m[2] };
}

export function parseSubject(user: string): Subject | undefined {
  const m = USER.exec(user);
  if (!m) return undefined;
  const [, type, id, relation] = m;
  if (id.includes(':')) return undefined;
  if (id === '*' && relation) return undefined;
  if (id.includes('*') && id !== '*') return undefined;
  return { raw: user, type, id, ...(relation ? { relation } : {}), wildcard: id === '*' };
}

export const tupleKeyString = (t: { object: string; relation: string; user: string }) => `${t.object}#${t.relation}@${t.user}`;

/** Why a tuple does not fit the model, or undefined when it does. Mirrors OpenFGA's messages. */
export function tupleProblem(model: CompiledModel, key: TupleKeyJson): string | undefined {
  if (typeof key.object !== 'string' || !key.object) return 'the object must be specified';
  if (typeof key.relation !== 'string' || !key.relation) return 'the relation must be specified';
  if (typeof key.user !== 'string' || !key.user) return 'the user must be specified';
  const obj = parseObject(key.object);
  if (!obj) return `invalid 'object' field format`;
  const user = parseSubject(key.user);
  if (!user) return `the 'user' field is malformed`;
  const type = model.types.get(obj.type);
  if (!type) return `type '${obj.type}' not found`;
  const rel = type.relations.get(key.relation);
  if (!rel) return `relation '${obj.type}#${key.relation}' not found`;
  const userType = model.types.get(user.type);
  if (!userType) return `type '${user.type}' not found`;
  if (user.relation && !userType.relations.has(user.relation)) return `relation '${user.type}#${user.relation}' not found`;
  const cond = key.condition?.name ?? '';
  if (key.condition !== undefined && (typeof key.condition !== 'object' || typeof key.condition.name !== 'string' || !key.condition.name)) {
    return 'the condition must have a name';
  }
  if (!rel.allowed.has(allowedKey(user.type, user, cond))) {
    if (cond && !model.conditions.has(cond)) return `undefined condition '${cond}'`;
    const what = user.wildcard ? `${user.type}:*` : user.relation ? `${user.type}#${user.relation}` : user.type;
    if (cond || [...rel.allowed].some((k) => k.startsWith(`${what}|`))) {
      return `invalid condition for type restriction '${what}' on relation '${obj.type}#${key.relation}'`;
    }
    return `type '${what}' is not an allowed type restriction for '${obj.type}#${key.relation}'`;
  }
  if (key.condition?.context !== undefined) {
    const ctx = key.condition.context;
    if (!ctx || typeof ctx !== 'object' || Array.isArray(ctx)) return 'the condition context must be an object';
    const params = model.conditions.get(cond)?.params;
    for (const p of Object.keys(ctx)) {
      if (!params?.has(p)) return `found invalid context parameter: ${p}`;
    }
  }
  return undefined;
}

export function toTuple(key: TupleKeyJson, timestamp: string): Tuple {
  const obj = parseObject(key.object)!;
  const user = parseSubject(key.user)!;
  return {
    object: key.object,
    objectType: obj.type,
    objectId: obj.id,
    relation: key.relation,
    user: key.user,
    userType: user.type,
    userId: user.id,
    ...(user.relation ? { userRelation: user.relation } : {}),
    ...(key.condition?.name ? { condition: { name: key.condition.name, ...(key.condition.context ? { context: key.condition.context } : {}) } } : {}),
    timestamp,
    restriction: allowedKey(user.type, user, key.condition?.name ?? ''),
  };
}

export function tupleJson(t: Tuple): TupleKeyJson {
  return {
    object: t.object,
    relation: t.relation,
    user: t.user,
    ...(t.condition ? { condition: { name: t.condition.name, ...(t.condition.context ? { context: t.condition.context } : {}) } } : {}),
  };
}

/** What the evaluator needs from a set of tuples. */
export interface TupleReader {
  /** Tuples `object#relation@*`. */
  usersOf(object: string, relation: string): Iterable<Tuple>;
  /** The tuple `object#relation@user`, if any. */
  find(object: string, relation: string, user: string): Tuple | undefined;
  /** Tuples `object#relation@type:id#relation` (usersets only). */
  usersetsOf(object: string, relation: string): Iterable<Tuple>;
  /** Tuples `objectType:*#relation@user`. */
  objectsOf(objectType: string, relation: string, user: string): Iterable<Tuple>;
  /** Ids of every object of the type that appears in some tuple. */
  objectIdsOfType(objectType: string): Iterable<string>;
}

function addTo<K, K2, V>(map: Map<K, Map<K2, V>>, k: K, k2: K2, v: V) {
  let inner = map.get(k);
  if (!inner) map.set(k, (inner = new Map()));
  inner.set(k2, v);
}

function removeFrom<K, K2, V>(map: Map<K, Map<K2, V>>, k: K, k2: K2) {
  const inner = map.get(k);
  if (!inner) return;
  inner.delete(k2);
  if (inner.size === 0) map.delete(k);
}

const EMPTY: Tuple[] = [];

export class TupleIndex implements TupleReader {
  readonly byKey = new Map<string, Tuple>();
  private readonly byObjectRelation = new Map<string, Map<string, Tuple>>();
  private readonly usersetsByObjectRelation = new Map<string, Map<string, Tuple>>();
  private readonly byTypeRelationUser = new Map<string, Map<string, Tuple>>();
  /** object -> tuple key -> tuple (Read by object) */
  private readonly byObject = new Map<string, Map<string, Tuple>>();
  /** object type -> object id -> number of tuples on it */
  private readonly objectsByType = new Map<string, Map<string, number>>();

  get size() {
    return this.byKey.size;
  }

  get(key: { object: string; relation: string; user: string }): Tuple | undefined {
    return this.byKey.get(tupleKeyString(key));
  }

  add(t: Tuple) {
    const key = tupleKeyString(t);
    if (this.byKey.has(key)) this.remove(t);
    this.byKey.set(key, t);
    addTo(this.byObject, t.object, key, t);
    addTo(this.byObjectRelation, `${t.object}#${t.relation}`, t.user, t);
    if (t.userRelation) addTo(this.usersetsByObjectRelation, `${t.object}#${t.relation}`, t.user, t);
    addTo(this.byTypeRelationUser, `${t.objectType}#${t.relation}@${t.user}`, t.objectId, t);
    addTo(this.objectsByType, t.objectType, t.objectId, (this.objectsByType.get(t.objectType)?.get(t.objectId) ?? 0) + 1);
  }

  remove(t: { object: string; relation: string; user: string }) {
    const key = tupleKeyString(t);
    const existing = this.byKey.get(key);
    if (!existing) return;
    this.byKey.delete(key);
    removeFrom(this.byObject, existing.object, key);
    removeFrom(this.byObjectRelation, `${existing.object}#${existing.relation}`, existing.user);
    removeFrom(this.usersetsByObjectRelation, `${existing.object}#${existing.relation}`, existing.user);
    removeFrom(this.byTypeRelationUser, `${existing.objectType}#${existing.relation}@${existing.user}`, existing.objectId);
    const count = this.objectsByType.get(existing.objectType)?.get(existing.objectId) ?? 0;
    if (count <= 1) removeFrom(this.objectsByType, existing.objectType, existing.objectId);
    else addTo(this.objectsByType, existing.objectType, existing.objectId, count - 1);
  }

  objectIdsOfType(objectType: string): Iterable<string> {
    return this.objectsByType.get(objectType)?.keys() ?? [];
  }

  usersOf(object: string, relation: string): Iterable<Tuple> {
    return this.byObjectRelation.get(`${object}#${relation}`)?.values() ?? EMPTY;
  }

  /** Every tuple on one object. */
  onObject(object: string): Iterable<Tuple> {
    return this.byObject.get(object)?.values() ?? EMPTY;
  }

  find(object: string, relation: string, user: string): Tuple | undefined {
    return this.byObjectRelation.get(`${object}#${relation}`)?.get(user);
  }

  usersetsOf(object: string, relation: string): Iterable<Tuple> {
    return this.usersetsByObjectRelation.get(`${object}#${relation}`)?.values() ?? EMPTY;
  }

  objectsOf(objectType: string, relation: string, user: string): Iterable<Tuple> {
    return this.byTypeRelationUser.get(`${objectType}#${relation}@${user}`)?.values() ?? EMPTY;
  }
}

/** The store's tuples plus a request's contextual tuples (which take precedence on the same key). */
export class OverlayReader implements TupleReader {
  constructor(
    private readonly base: TupleReader,
    private readonly overlay: TupleIndex,
  ) {}

  *usersOf(object: string, relation: string): Iterable<Tuple> {
    const extra = this.overlay.usersOf(object, relation);
    yield* extra;
    for (const t of this.base.usersOf(object, relation)) if (!this.overlay.get(t)) yield t;
  }

  find(object: string, relation: string, user: string): Tuple | undefined {
    return this.overlay.find(object, relation, user) ?? this.base.find(object, relation, user);
  }

  *usersetsOf(object: string, relation: string): Iterable<Tuple> {
    yield* this.overlay.usersetsOf(object, relation);
    for (const t of this.base.usersetsOf(object, relation)) if (!this.overlay.get(t)) yield t;
  }

  *objectsOf(objectType: string, relation: string, user: string): Iterable<Tuple> {
    yield* this.overlay.objectsOf(objectType, relation, user);
    for (const t of this.base.objectsOf(objectType, relation, user)) if (!this.overlay.get(t)) yield t;
  }

  *objectIdsOfType(objectType: string): Iterable<string> {
    yield* this.overlay.objectIdsOfType(objectType);
    yield* this.base.objectIdsOfType(objectType);
  }
}
