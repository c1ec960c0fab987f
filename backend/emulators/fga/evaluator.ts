/**
 * The relationship evaluator: Check (top-down, three-valued for cycles, memoised within one request), ListObjects
 * (reverse expansion from the subject into sets of object ids, iterated to a fixpoint for recursive relations;
 * candidates under an exclusion are confirmed by Check), ListUsers (subjects reachable from the object, each
 * confirmed by Check) and Expand (the relation's rewrite tree with its leaves).
 */
import { conditionError } from './conditions';
import { FgaError, tooComplex } from './errors';
import type { CompiledModel, RelationDef, Rewrite } from './model';
import { parseSubject, type Subject, type Tuple, type TupleReader } from './tuples';

export const MAX_RESOLUTION_DEPTH = 25;

type Tri = 0 | 1 | 2;
const F: Tri = 0;
const T: Tri = 1;
/** Unknown: the evaluation ran into a cycle. */
const U: Tri = 2;

/** Relations resolved top-down by one Check before it switches to the reverse expansion. */
const CHECK_STEP_BUDGET = 2_000;

class StepBudgetExceeded extends Error {}

export interface UserFilter {
  type: string;
  relation?: string;
}

export type ListedUser =
  | { object: { type: string; id: string } }
  | { userset: { type: string; id: string; relation: string } }
  | { wildcard: { type: string } };

export class Evaluation {
  private readonly checkMemo = new Map<string, Tri>();
  private readonly onStack = new Set<string>();
  /** Unknown results and the ancestors (on the stack when computed) whose cycles made them unknown. */
  private readonly unknownMemo = new Map<string, Set<string>>();
  /** Per frame of `resolve`: the ancestors its subtree ran into. */
  private readonly cutDeps: Array<Set<string>> = [];
  private steps = 0;
  private inReverseFallback = false;
  /** The first condition that could not be evaluated (missing parameters, bad values) in this request. */
  conditionFailure: FgaError | undefined;

  constructor(
    private readonly model: CompiledModel,
    private readonly reader: TupleReader,
    private readonly context: Record<string, unknown> = {},
    private readonly maxDepth = MAX_RESOLUTION_DEPTH,
  ) {}

  relation(type: string, relation: string): RelationDef | undefined {
    return this.model.types.get(type)?.relations.get(relation);
  }

  /** Whether a stored tuple still fits the model's type restrictions and its condition (if any) holds. */
  private tupleHolds(t: Tuple, rel: RelationDef): boolean {
    if (!rel.allowed.has(t.restriction)) return false;
    if (!t.condition) return true;
    const compiled = this.model.conditions.get(t.condition.name);
    if (!compiled) return false;
    const result = compiled.evaluate({ ...this.context, ...(t.condition.context ?? {}) });
    if (result.ok) return result.value;
    this.conditionFailure ??= conditionError(t.condition.name, result);
    return false;
  }

  // ---------------------------------------------------------------- Check

  check(objectType: string, objectId: string, relation: string, subject: Subject): boolean {
    this.steps = 0;
    try {
      return this.resolve(objectType, objectId, relation, subject, 0) === T;
    } catch (err) {
      if (!(err instanceof StepBudgetExceeded)) throw err;
      // Densely cyclic graphs make top-down search exponential; the reverse expansion is polynomial and exact.
      if (this.inReverseFallback) throw tooComplex();
      this.inReverseFallback = true;
      try {
        return this.listObjectIds(objectType, relation, subject).has(objectId);
      } finally {
        this.inReverseFallback = false;
      }
    }
  }

  /**
   * Three-valued: a cycle yields "unknown", which a union can still override with true and an intersection with
   * false, and which is "not allowed" at the top (as OpenFGA does: `[user] but not restricted` where restricted
   * loops back to viewer is false). Definite results are memoised for the request. An unknown result depends on
   * the ancestors on the stack it ran into; it is reused while all of them are still on the stack (where computing
   * it again would give the same answer), which keeps densely cyclic graphs polynomial instead of exponential.
   */
  private resolve(objectType: string, objectId: string, relation: string, subject: Subject, depth: number): Tri {
    if (subject.relation === relation && subject.type === objectType && subject.id === objectId) return T;
    const key = `${objectType}:${objectId}#${relation}@${subject.raw}`;
    const memo = this.checkMemo.get(key);
    if (memo !== undefined) return memo;
    if (this.onStack.has(key)) {
      this.cutDeps.at(-1)?.add(key);
      return U;
    }
    const unknown = this.unknownMemo.get(key);
    if (unknown && [...unknown].every((k) => this.onStack.has(k))) {
      const deps = this.cutDeps.at(-1);
      if (deps) for (const k of unknown) deps.add(k);
      return U;
    }
    if (depth >= this.maxDepth) throw tooComplex();
    if (++this.steps > CHECK_STEP_BUDGET) throw new StepBudgetExceeded();
    const rel = this.relation(objectType, relation);
    if (!rel) return F;
    this.onStack.add(key);
    const deps = new Set<string>();
    this.cutDeps.push(deps);
    let result: Tri;
    try {
      result = this.checkRewrite(rel.rewrite, rel, objectType, objectId, subject, depth);
    } finally {
      this.cutDeps.pop();
      this.onStack.delete(key);
    }
    if (result !== U) {
      this.checkMemo.set(key, result);
    } else {
      deps.delete(key);
      if (deps.size === 0) {
        // Every cycle it met closed on itself: with nothing else to depend on, "unknown" is its final answer.
        this.checkMemo.set(key, U);
      } else {
        this.unknownMemo.set(key, deps);
        const parent = this.cutDeps.at(-1);
        if (parent) for (const k of deps) parent.add(k);
      }
    }
    return result;
  }

  private checkRewrite(rw: Rewrite, rel: RelationDef, type: string, id: string, subject: Subject, depth: number): Tri {
    switch (rw.kind) {
      case 'this':
        return this.checkDirect(rel, type, id, subject, depth);
      case 'computed':
        return this.resolve(type, id, rw.relation, subject, depth + 1);
      case 'ttu': {
        const tsRel = this.relation(type, rw.tupleset);
        if (!tsRel) return F;
        let out: Tri = F;
        for (const t of this.reader.usersOf(`${type}:${id}`, rw.tupleset)) {
          if (t.userRelation || t.userId === '*' || !this.tupleHolds(t, tsRel)) continue;
          if (!this.relation(t.userType, rw.computed)) continue;
          const r = this.resolve(t.userType, t.userId, rw.computed, subject, depth + 1);
          if (r === T) return T;
          if (r === U) out = U;
        }
        return out;
      }
      case 'union': {
        let out: Tri = F;
        for (const c of rw.children) {
          const r = this.checkRewrite(c, rel, type, id, subject, depth);
          if (r === T) return T;
          if (r === U) out = U;
        }
        return out;
      }
      case 'intersection': {
        let out: Tri = T;
        for (const c of rw.children) {
          const r = this.checkRewrite(c, rel, type, id, subject, depth);
          if (r === F) return F;
          if (r === U) out = U;
        }
        return out;
      }
      case 'difference': {
        const base = this.checkRewrite(rw.base, rel, type, id, subject, depth);
        if (base === F) return F;
        const sub = this.checkRewrite(rw.subtract, rel, type, id, subject, depth);
        if (sub === T) return F;
        if (sub === U) return U;
        return base;
      }
    }
  }

  private checkDirect(rel: RelationDef, type: string, id: string, subject: Subject, depth: number): Tri {
    const object = `${type}:${id}`;
    const exact = this.reader.find(object, rel.name, subject.raw);
    if (exact && this.tupleHolds(exact, rel)) return T;
    if (!subject.relation && !subject.wildcard) {
      const wildcard = this.reader.find(object, rel.name, `${subject.type}:*`);
      if (wildcard && this.tupleHolds(wildcard, rel)) return T;
    }
    let out: Tri = F;
    for (const t of this.reader.usersetsOf(object, rel.name)) {
      if (t.user === subject.raw || !this.tupleHolds(t, rel)) continue;
      const r = this.resolve(t.userType, t.userId, t.userRelation!, subject, depth + 1);
      if (r === T) return T;
      if (r === U) out = U;
    }
    return out;
  }

  // ---------------------------------------------------------------- ListObjects

  /** Ids of the objects of `type` on which `subject` has `relation`. */
  listObjectIds(type: string, relation: string, subject: Subject): Set<string> {
    const reverse = new ReverseExpansion(this, this.reader, subject);
    return reverse.run(type, relation);
  }

  /** @internal used by ReverseExpansion */
  holds(t: Tuple, rel: RelationDef) {
    return this.tupleHolds(t, rel);
  }

  // ---------------------------------------------------------------- ListUsers

  listUsers(objectType: string, objectId: string, relation: string, filters: UserFilter[]): ListedUser[] {
    const candidates = new Set<string>();
    const visited = new Set<string>();
    const wanted = (type: string, rel?: string) => filters.some((f) => f.type === type && (f.relation ?? undefined) === rel);
    const visit = (type: string, id: string, relation: string, depth: number) => {
      const key = `${type}:${id}#${relation}`;
      if (visited.has(key)) return;
      visited.add(key);
      if (depth > this.maxDepth) throw tooComplex();
      if (wanted(type, relation)) candidates.add(key);
      const rel = this.relation(type, relation);
      if (rel) walk(rel.rewrite, rel, type, id, depth);
    };
    const walk = (rw: Rewrite, rel: RelationDef, type: string, id: string, depth: number) => {
      switch (rw.kind) {
        case 'this':
          for (const t of this.reader.usersOf(`${type}:${id}`, rel.name)) {
            if (!this.tupleHolds(t, rel)) continue;
            if (t.userRelation) visit(t.userType, t.userId, t.userRelation, depth + 1);
            else if (wanted(t.userType)) candidates.add(t.user);
          }
          return;
        case 'computed':
          return visit(type, id, rw.relation, depth + 1);
        case 'ttu': {
          const tsRel = this.relation(type, rw.tupleset);
          if (!tsRel) return;
          for (const t of this.reader.usersOf(`${type}:${id}`, rw.tupleset)) {
            if (t.userRelation || !this.tupleHolds(t, tsRel) || !this.relation(t.userType, rw.computed)) continue;
            visit(t.userType, t.userId, rw.computed, depth + 1);
          }
          return;
        }
        case 'union':
        case 'intersection':
          for (const c of rw.children) walk(c, rel, type, id, depth);
          return;
        case 'difference':
          return walk(rw.base, rel, type, id, depth);
      }
    };
    visit(objectType, objectId, relation, 0);
    const users: ListedUser[] = [];
    for (const c of candidates) {
      const subject = parseSubject(c);
      if (!subject) continue;
      if (!this.check(objectType, objectId, relation, subject)) continue;
      if (subject.relation) users.push({ userset: { type: subject.type, id: subject.id, relation: subject.relation } });
      else if (subject.wildcard) users.push({ wildcard: { type: subject.type } });
      else users.push({ object: { type: subject.type, id: subject.id } });
    }
    return users;
  }

  // ---------------------------------------------------------------- Expand

  expand(objectType: string, objectId: string, relation: string): unknown {
    const rel = this.relation(objectType, relation);
    const name = `${objectType}:${objectId}#${relation}`;
    if (!rel) return { name };
    const node = (rw: Rewrite): unknown => {
      switch (rw.kind) {
        case 'this': {
          const users: string[] = [];
          for (const t of this.reader.usersOf(`${objectType}:${objectId}`, relation)) if (this.tupleHolds(t, rel)) users.push(t.user);
          return { name, leaf: { users: { users } } };
        }
        case 'computed':
          return { name, leaf: { computed: { userset: `${objectType}:${objectId}#${rw.relation}` } } };
        case 'ttu': {
          const computed: Array<{ userset: string }> = [];
          const tsRel = this.relation(objectType, rw.tupleset);
          if (tsRel) {
            for (const t of this.reader.usersOf(`${objectType}:${objectId}`, rw.tupleset)) {
              if (!t.userRelation && this.tupleHolds(t, tsRel) && this.relation(t.userType, rw.computed)) computed.push({ userset: `${t.user}#${rw.computed}` });
            }
          }
          return { name, leaf: { tupleToUserset: { tupleset: `${objectType}:${objectId}#${rw.tupleset}`, computed } } };
        }
        case 'union':
          return { name, union: { nodes: rw.children.map(node) } };
        case 'intersection':
          return { name, intersection: { nodes: rw.children.map(node) } };
        case 'difference':
          return { name, difference: { base: node(rw.base), subtract: node(rw.subtract) } };
      }
    };
    return node(rel.rewrite);
  }
}

/**
 * The set of objects of a type on which one subject has a relation, computed bottom-up from the subject through
 * the reverse indexes. Recursive relations (group#member inside group#member) are solved by iterating to a fixpoint.
 */
class ReverseExpansion {
  private results = new Map<string, Set<string>>();
  private previous = new Map<string, Set<string>>();
  private inProgress = new Set<string>();
  private cycle = false;
  /** Set when the candidates are a superset (an exclusion was met) that Check must confirm. */
  private approximate = false;

  constructor(
    private readonly ev: Evaluation,
    private readonly reader: TupleReader,
    private readonly subject: Subject,
  ) {}

  run(type: string, relation: string): Set<string> {
    const candidates = this.fixpoint(type, relation);
    if (!candidates) return this.checkEachCandidate(type, relation);
    if (!this.approximate) return candidates;
    const out = new Set<string>();
    for (const id of candidates) if (this.ev.check(type, id, relation, this.subject)) out.add(id);
    return out;
  }

  /** The candidate set, or undefined when iteration does not settle. */
  private fixpoint(type: string, relation: string): Set<string> | undefined {
    for (let i = 0; i < 50; i++) {
      this.cycle = false;
      this.results = new Map();
      const out = this.objects(type, relation, 0);
      if (!this.cycle) return out;
      let changed = false;
      let shrank = false;
      for (const [k, v] of this.results) {
        const before = this.previous.get(k);
        if (!before || before.size !== v.size) changed = true;
        if (before && before.size > v.size) shrank = true;
      }
      if (!changed) return out;
      if (shrank) return undefined;
      this.previous = this.results;
    }
    return undefined;
  }

  private checkEachCandidate(type: string, relation: string): Set<string> {
    const out = new Set<string>();
    const s = this.subject;
    const candidates = new Set(this.reader.objectIdsOfType(type));
    if (s.type === type) candidates.add(s.id);
    for (const id of candidates) if (this.ev.check(type, id, relation, s)) out.add(id);
    return out;
  }

  private objects(type: string, relation: string, depth: number): Set<string> {
    const key = `${type}#${relation}`;
    const done = this.results.get(key);
    if (done) return done;
    if (this.inProgress.has(key)) {
      this.cycle = true;
      return this.previous.get(key) ?? new Set();
    }
    if (depth > 4 * MAX_RESOLUTION_DEPTH) throw tooComplex();
    const rel = this.ev.relation(type, relation);
    const out = new Set<string>();
    if (rel) {
      this.inProgress.add(key);
      try {
        for (const id of this.rewrite(rel.rewrite, rel, type, depth)) out.add(id);
      } finally {
        this.inProgress.delete(key);
      }
    }
    const s = this.subject;
    if (s.relation === relation && s.type === type) out.add(s.id);
    this.results.set(key, out);
    return out;
  }

  private rewrite(rw: Rewrite, rel: RelationDef, type: string, depth: number): Set<string> {
    switch (rw.kind) {
      case 'this':
        return this.direct(rel, type, depth);
      case 'computed':
        return this.objects(type, rw.relation, depth + 1);
      case 'ttu': {
        const out = new Set<string>();
        const tsRel = this.ev.relation(type, rw.tupleset);
        if (!tsRel) return out;
        const parentTypes = new Set(tsRel.directTypes.filter((d) => !d.relation && !d.wildcard).map((d) => d.type));
        for (const parentType of parentTypes) {
          if (!this.ev.relation(parentType, rw.computed)) continue;
          for (const parentId of this.objects(parentType, rw.computed, depth + 1)) {
            for (const t of this.reader.objectsOf(type, rw.tupleset, `${parentType}:${parentId}`)) {
              if (!out.has(t.objectId) && this.ev.holds(t, tsRel)) out.add(t.objectId);
            }
          }
        }
        return out;
      }
      case 'union': {
        const out = new Set<string>();
        for (const c of rw.children) for (const id of this.rewrite(c, rel, type, depth)) out.add(id);
        return out;
      }
      case 'intersection': {
        const sets = rw.children.map((c) => this.rewrite(c, rel, type, depth)).sort((a, b) => a.size - b.size);
        const [smallest, ...rest] = sets;
        const out = new Set<string>();
        for (const id of smallest) if (rest.every((s) => s.has(id))) out.add(id);
        return out;
      }
      case 'difference':
        // "but not" needs the objects where the subtracted relation is definitely false, which a cycle can leave
        // undecided (OpenFGA then denies): keep the base as candidates and let Check decide them at the end.
        this.approximate = true;
        return this.rewrite(rw.base, rel, type, depth);
    }
  }

  private direct(rel: RelationDef, type: string, depth: number): Set<string> {
    const out = new Set<string>();
    const s = this.subject;
    const take = (user: string) => {
      for (const t of this.reader.objectsOf(type, rel.name, user)) if (!out.has(t.objectId) && this.ev.holds(t, rel)) out.add(t.objectId);
    };
    let tookSelf = false;
    let tookWildcard = false;
    for (const d of rel.directTypes) {
      if (d.relation) {
        if (s.type === d.type && s.relation === d.relation) {
          if (!tookSelf) take(s.raw);
          tookSelf = true;
        }
        if (!this.ev.relation(d.type, d.relation)) continue;
        for (const groupId of this.objects(d.type, d.relation, depth + 1)) {
          const userset = `${d.type}:${groupId}#${d.relation}`;
          if (userset !== s.raw) take(userset);
        }
      } else if (d.type === s.type && !s.relation) {
        if (d.wildcard) {
          if (!tookWildcard) take(`${s.type}:*`);
          tookWildcard = true;
        } else if (!tookSelf) {
          take(s.raw);
          tookSelf = true;
        }
      }
    }
    return out;
  }
}
