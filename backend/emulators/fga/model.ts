/**
 * OpenFGA authorization models (schema 1.1, the JSON form the API takes): normalisation, validation with
 * OpenFGA's error codes, and the compiled form the evaluator walks.
 */
import { validator } from '@openfga/syntax-transformer';
import { FgaError, invalidModel, show, validationError } from './errors';
import { compileCondition, type CompiledCondition, type ConditionDefinition } from './conditions';

export type Rewrite =
  | { kind: 'this' }
  | { kind: 'computed'; relation: string }
  | { kind: 'ttu'; tupleset: string; computed: string }
  | { kind: 'union'; children: Rewrite[] }
  | { kind: 'intersection'; children: Rewrite[] }
  | { kind: 'difference'; base: Rewrite; subtract: Rewrite };

export interface RelationReference {
  type: string;
  relation?: string;
  wildcard?: boolean;
  condition?: string;
}

export interface RelationDef {
  name: string;
  rewrite: Rewrite;
  directTypes: RelationReference[];
  /** `user`, `user:*`, `group#member`, each suffixed with `|condition` (empty when unconditioned). */
  allowed: Set<string>;
}

export interface TypeDef {
  name: string;
  relations: Map<string, RelationDef>;
}

export interface CompiledModel {
  id: string;
  /** The model as the API returns it. */
  json: AuthorizationModelJson;
  types: Map<string, TypeDef>;
  conditions: Map<string, CompiledCondition>;
}

export interface AuthorizationModelJson {
  id: string;
  schema_version: string;
  type_definitions: unknown[];
  conditions?: Record<string, unknown>;
}

const NAME = /^[^:#@\s]{1,254}$/;
const RELATION_NAME = /^[^:#@*\s]{1,50}$/;

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** `user` / `user:*` / `group#member`, with the condition name: the key a tuple's user must match. */
export const allowedKey = (type: string, opts: { relation?: string; wildcard?: boolean }, condition = '') =>
  `${type}${opts.wildcard ? ':*' : opts.relation ? `#${opts.relation}` : ''}|${condition}`;

function parseRewrite(raw: unknown, where: string): Rewrite {
  if (!isObj(raw)) throw invalidModel(`${where}: a relation definition must be an object`);
  const keys = Object.keys(raw).filter((k) => raw[k] !== undefined && raw[k] !== null);
  if (keys.length !== 1) throw invalidModel(`${where}: a relation definition must have exactly one rewrite (this, computedUserset, tupleToUserset, union, intersection or difference)`);
  const [key] = keys;
  const v = raw[key];
  switch (key) {
    case 'this':
      return { kind: 'this' };
    case 'computedUserset':
    case 'computed_userset': {
      if (!isObj(v) || typeof v.relation !== 'string' || !v.relation) throw invalidModel(`${where}: computedUserset needs a relation`);
      return { kind: 'computed', relation: v.relation };
    }
    case 'tupleToUserset':
    case 'tuple_to_userset': {
      if (!isObj(v)) throw invalidModel(`${where}: tupleToUserset must be an object`);
      const ts = v.tupleset;
      const cu = v.computedUserset ?? v.computed_userset;
      if (!isObj(ts) || typeof ts.relation !== 'string' || !ts.relation || !isObj(cu) || typeof cu.relation !== 'string' || !cu.relation) {
        throw invalidModel(`${where}: tupleToUserset needs tupleset.relation and computedUserset.relation`);
      }
      return { kind: 'ttu', tupleset: ts.relation, computed: cu.relation };
    }
    case 'union':
    case 'intersection': {
      if (!isObj(v) || !Array.isArray(v.child) || v.child.length === 0) throw invalidModel(`${where}: ${key} needs at least one child`);
      return { kind: key, children: v.child.map((c, i) => parseRewrite(c, `${where}.${key}[${i}]`)) };
    }
    case 'difference': {
      if (!isObj(v) || !v.base) throw new FgaError(400, 'difference_base_missing_value', `${where}: difference needs a base`);
      if (!v.subtract) throw new FgaError(400, 'subtract_base_missing_value', `${where}: difference needs a subtract`);
      return { kind: 'difference', base: parseRewrite(v.base, `${where}.base`), subtract: parseRewrite(v.subtract, `${where}.subtract`) };
    }
    default:
      throw invalidModel(`${where}: unknown rewrite '${key}'`);
  }
}

function rewriteHasThis(r: Rewrite): boolean {
  switch (r.kind) {
    case 'this':
      return true;
    case 'union':
    case 'intersection':
      return r.children.some(rewriteHasThis);
    case 'difference':
      return rewriteHasThis(r.base) || rewriteHasThis(r.subtract);
    default:
      return false;
  }
}

function* rewriteLeaves(r: Rewrite): Generator<Rewrite> {
  switch (r.kind) {
    case 'union':
    case 'intersection':
      for (const c of r.children) yield* rewriteLeaves(c);
      return;
    case 'difference':
      yield* rewriteLeaves(r.base);
      yield* rewriteLeaves(r.subtract);
      return;
    default:
      yield r;
  }
}

/** Validates a model as `POST /authorization-models` receives it and compiles it. */
export function compileModel(id: string, body: unknown): CompiledModel {
  if (!isObj(body)) throw validationError('the request body must be a JSON object');
  const schema = body.schema_version;
  if (schema === undefined || schema === '') throw validationError('invalid WriteAuthorizationModelRequest.SchemaVersion: value is required');
  if (schema !== '1.1') throw new FgaError(400, 'invalid_authorization_model', `invalid schema version: '${show(schema)}' is not supported (only 1.1)`);
  const rawTypes = body.type_definitions;
  if (!Array.isArray(rawTypes) || rawTypes.length === 0) {
    throw new FgaError(400, 'type_definitions_too_few_items', 'invalid WriteAuthorizationModelRequest.TypeDefinitions: value must contain at least 1 item(s)');
  }
  const rawConditions = body.conditions ?? {};
  if (!isObj(rawConditions)) throw invalidModel('conditions must be an object keyed by condition name');

  const conditions = new Map<string, CompiledCondition>();
  for (const [name, def] of Object.entries(rawConditions)) {
    if (!isObj(def)) throw invalidModel(`condition '${name}' must be an object`);
    if (def.name !== undefined && def.name !== name) throw invalidModel(`condition key '${name}' does not match its name '${show(def.name)}'`);
    conditions.set(name, compileCondition(name, def as unknown as ConditionDefinition));
  }

  const types = new Map<string, TypeDef>();
  for (const [i, rawType] of rawTypes.entries()) {
    if (!isObj(rawType) || typeof rawType.type !== 'string') throw validationError(`invalid type definition at index ${i}: 'type' is required`);
    const typeName = rawType.type;
    if (!NAME.test(typeName) || typeName.includes('*')) throw new FgaError(400, 'type_invalid_pattern', `invalid type name '${typeName}'`);
    if (types.has(typeName)) throw new FgaError(400, 'cannot_allow_duplicate_types_in_one_request', `the type '${typeName}' is defined more than once`);
    const relations = new Map<string, RelationDef>();
    const rawRelations = rawType.relations ?? {};
    if (!isObj(rawRelations)) throw invalidModel(`type '${typeName}': relations must be an object`);
    const meta = isObj(rawType.metadata) && isObj(rawType.metadata.relations) ? rawType.metadata.relations : {};
    for (const [relName, rawRewrite] of Object.entries(rawRelations)) {
      if (!RELATION_NAME.test(relName) || relName === 'self' || relName === 'this') {
        throw new FgaError(400, 'relations_invalid_pattern', `invalid relation name '${relName}' on type '${typeName}'`);
      }
      const rewrite = parseRewrite(rawRewrite, `${typeName}#${relName}`);
      const relMeta = meta[relName];
      const rawDirect = isObj(relMeta) && Array.isArray(relMeta.directly_related_user_types) ? relMeta.directly_related_user_types : [];
      const directTypes: RelationReference[] = rawDirect.map((d) => {
        if (!isObj(d) || typeof d.type !== 'string' || !d.type) throw invalidModel(`${typeName}#${relName}: each directly related user type needs a type`);
        return {
          type: d.type,
          ...(typeof d.relation === 'string' && d.relation ? { relation: d.relation } : {}),
          ...(d.wildcard !== undefined && d.wildcard !== null ? { wildcard: true } : {}),
          ...(typeof d.condition === 'string' && d.condition ? { condition: d.condition } : {}),
        };
      });
      const allowed = new Set(directTypes.map((d) => allowedKey(d.type, d, d.condition)));
      relations.set(relName, { name: relName, rewrite, directTypes, allowed });
    }
    types.set(typeName, { name: typeName, relations });
  }

  semanticValidation(body);
  validateReferences(types, conditions);
  const json: AuthorizationModelJson = {
    id,
    schema_version: '1.1',
    type_definitions: rawTypes,
    conditions: rawConditions as Record<string, unknown>,
  };
  return { id, json, types, conditions };
}

/**
 * OpenFGA's own model rules (undefined types and relations, relations with no entry point, invalid tuplesets...),
 * as the OpenFGA language package implements them.
 */
function semanticValidation(body: Record<string, unknown>) {
  try {
    validator.validateJSON(structuredClone(body) as never);
  } catch (err) {
    const errors = (err as { errors?: Array<{ message?: string }> }).errors;
    if (!Array.isArray(errors)) return; // the validator itself failed on a shape we accept; our own checks follow
    throw invalidModel(errors.map((e) => show(e?.message ?? e)).join('; ') || 'the model is invalid');
  }
}

function validateReferences(types: Map<string, TypeDef>, conditions: Map<string, CompiledCondition>) {
  for (const type of types.values()) {
    for (const rel of type.relations.values()) {
      const where = `${type.name}#${rel.name}`;
      const hasThis = rewriteHasThis(rel.rewrite);
      if (hasThis && rel.directTypes.length === 0) {
        throw invalidModel(`the assignable relation '${rel.name}' in object type '${type.name}' must contain at least one type`);
      }
      if (!hasThis && rel.directTypes.length > 0) {
        throw invalidModel(`the non-assignable relation '${rel.name}' in object type '${type.name}' should not contain directly related user types`);
      }
      for (const d of rel.directTypes) {
        const target = types.get(d.type);
        if (!target) throw invalidModel(`${where}: the type '${d.type}' is not defined`);
        if (d.relation && !target.relations.has(d.relation)) throw invalidModel(`${where}: the relation '${d.relation}' does not exist in type '${d.type}'`);
        if (d.relation && d.wildcard) throw invalidModel(`${where}: a wildcard cannot have a relation`);
        if (d.condition && !conditions.has(d.condition)) throw invalidModel(`${where}: the condition '${d.condition}' is not defined`);
      }
      for (const leaf of rewriteLeaves(rel.rewrite)) {
        if (leaf.kind === 'computed') {
          if (!type.relations.has(leaf.relation)) throw invalidModel(`the relation '${leaf.relation}' does not exist in type '${type.name}' (used by '${where}')`);
          if (leaf.relation === rel.name && rel.rewrite.kind === 'computed') {
            throw new FgaError(400, 'cannot_allow_multiple_references_to_one_relation', `the relation '${where}' cannot be defined as itself`);
          }
        } else if (leaf.kind === 'ttu') {
          const ts = type.relations.get(leaf.tupleset);
          if (!ts) throw invalidModel(`the tupleset relation '${leaf.tupleset}' does not exist in type '${type.name}' (used by '${where}')`);
          if (ts.rewrite.kind !== 'this') throw invalidModel(`the tupleset relation '${type.name}#${leaf.tupleset}' must be directly assignable only`);
          if (ts.directTypes.some((d) => d.relation || d.wildcard)) throw invalidModel(`the tupleset relation '${type.name}#${leaf.tupleset}' cannot contain usersets or wildcards`);
          if (!ts.directTypes.some((d) => types.get(d.type)?.relations.has(leaf.computed))) {
            throw invalidModel(`the relation '${leaf.computed}' does not exist on any type of '${type.name}#${leaf.tupleset}' (used by '${where}')`);
          }
        }
      }
    }
  }
  // A relation defined only through computed usersets that loop back to itself can never be satisfied.
  for (const type of types.values()) {
    for (const rel of type.relations.values()) {
      const seen = new Set<string>();
      let cur: Rewrite | undefined = rel.rewrite;
      while (cur && cur.kind === 'computed') {
        if (seen.has(cur.relation)) throw invalidModel(`the relation '${type.name}#${rel.name}' is defined through a cycle of computed relations`);
        seen.add(cur.relation);
        cur = type.relations.get(cur.relation)?.rewrite;
      }
    }
  }
}
