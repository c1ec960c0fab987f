/**
 * Stores, their authorization models, tuples and changelog, with an append-only JSON-lines journal in `dataDir`
 * (replayed on start) so that everything survives a restart. Without a dataDir everything lives in memory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { monotonicFactory } from 'ulid';
import { FgaError, latestModelNotFound, modelNotFound, storeNotFound, validationError } from './errors';
import { compileModel, type CompiledModel } from './model';
import { parseObject, parseSubject, toTuple, tupleJson, tupleKeyString, tupleProblem, TupleIndex, type Tuple, type TupleKeyJson } from './tuples';

export interface StoreMeta {
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface Change {
  tuple_key: TupleKeyJson;
  operation: 'TUPLE_OPERATION_WRITE' | 'TUPLE_OPERATION_DELETE';
  timestamp: string;
  /** Position in the store's changelog (for continuation tokens). */
  seq: number;
}

export class StoreState {
  /** Oldest first. */
  readonly models: CompiledModel[] = [];
  readonly tuples = new TupleIndex();
  readonly changes: Change[] = [];
  /** Model id -> the assertions written for it (OpenFGA's model tests). */
  readonly assertions = new Map<string, unknown[]>();
  constructor(public meta: StoreMeta) {}

  model(id?: string): CompiledModel {
    if (id) {
      const m = this.models.find((x) => x.id === id);
      if (!m) throw modelNotFound(id);
      return m;
    }
    const latest = this.models.at(-1);
    if (!latest) throw latestModelNotFound(this.meta.id);
    return latest;
  }
}

export interface WriteRequest {
  writes: TupleKeyJson[];
  deletes: TupleKeyJson[];
  onDuplicate: 'error' | 'ignore';
  onMissing: 'error' | 'ignore';
  modelId?: string;
}

type JournalEntry =
  | { op: 'store'; meta: StoreMeta }
  | { op: 'delete-store'; id: string }
  | { op: 'model'; store: string; id: string; model: unknown }
  | { op: 'assertions'; store: string; model: string; assertions: unknown[] }
  | { op: 'write'; store: string; at: string; writes: TupleKeyJson[]; deletes: TupleKeyJson[] };

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
export const isUlid = (s: unknown): s is string => typeof s === 'string' && ULID.test(s);

export class FgaState {
  readonly stores = new Map<string, StoreState>();
  private readonly newId = monotonicFactory();
  private readonly journal?: string;

  constructor(
    dataDir: string | undefined,
    readonly limits = { maxTuplesPerWrite: 100 },
  ) {
    if (dataDir) {
      fs.mkdirSync(dataDir, { recursive: true });
      this.journal = path.join(dataDir, 'fga-journal.jsonl');
      if (fs.existsSync(this.journal)) this.replay(fs.readFileSync(this.journal, 'utf8'));
    }
  }

  private replay(text: string) {
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line) as JournalEntry;
      } catch {
        continue; // a torn last line after a crash
      }
      this.apply(entry);
    }
  }

  private record(entry: JournalEntry) {
    if (this.journal) fs.appendFileSync(this.journal, `${JSON.stringify(entry)}\n`);
    this.apply(entry);
  }

  private apply(entry: JournalEntry) {
    switch (entry.op) {
      case 'store':
        this.stores.set(entry.meta.id, new StoreState(entry.meta));
        return;
      case 'delete-store':
        this.stores.delete(entry.id);
        return;
      case 'model': {
        const store = this.stores.get(entry.store);
        store?.models.push(compileModel(entry.id, entry.model));
        return;
      }
      case 'assertions':
        this.stores.get(entry.store)?.assertions.set(entry.model, entry.assertions);
        return;
      case 'write': {
        const store = this.stores.get(entry.store);
        if (!store) return;
        for (const d of entry.deletes) {
          const existing = store.tuples.get(d);
          if (!existing) continue;
          store.tuples.remove(d);
          store.changes.push({ tuple_key: tupleJson(existing), operation: 'TUPLE_OPERATION_DELETE', timestamp: entry.at, seq: store.changes.length });
        }
        for (const w of entry.writes) {
          store.tuples.add(toTuple(w, entry.at));
          store.changes.push({ tuple_key: w, operation: 'TUPLE_OPERATION_WRITE', timestamp: entry.at, seq: store.changes.length });
        }
        store.meta.updated_at = entry.at;
        return;
      }
    }
  }

  store(id: string): StoreState {
    if (!isUlid(id)) throw validationError(`invalid store id '${id}': value does not match regex pattern "^[ABCDEFGHJKMNPQRSTVWXYZ0-9]{26}$"`);
    const s = this.stores.get(id);
    if (!s) throw storeNotFound();
    return s;
  }

  createStore(name: string): StoreMeta {
    const now = new Date().toISOString();
    const meta: StoreMeta = { id: this.newId(), name, created_at: now, updated_at: now };
    this.record({ op: 'store', meta });
    return meta;
  }

  deleteStore(id: string) {
    this.store(id);
    this.record({ op: 'delete-store', id });
  }

  writeModel(storeId: string, body: unknown): string {
    const store = this.store(storeId);
    const id = this.newId();
    compileModel(id, body); // validate before it is journaled
    const b = body as Record<string, unknown>;
    this.record({ op: 'model', store: store.meta.id, id, model: { schema_version: b.schema_version, type_definitions: b.type_definitions, conditions: b.conditions ?? {} } });
    return id;
  }

  writeAssertions(storeId: string, modelId: string, assertions: unknown[]) {
    this.record({ op: 'assertions', store: this.store(storeId).meta.id, model: modelId, assertions });
  }

  write(storeId: string, req: WriteRequest) {
    const store = this.store(storeId);
    const total = req.writes.length + req.deletes.length;
    if (total === 0) throw new FgaError(400, 'invalid_write_input', 'Invalid input. Make sure you provide at least one write or delete');
    if (total > this.limits.maxTuplesPerWrite) {
      throw new FgaError(400, 'exceeded_entity_limit', `The number of write operations exceeds the allowed limit of ${this.limits.maxTuplesPerWrite}`);
    }
    const describe = (k: TupleKeyJson) => `user: '${k.user}', relation: '${k.relation}', object: '${k.object}'`;
    const seen = new Set<string>();
    for (const k of [...req.writes, ...req.deletes]) {
      const key = tupleKeyString(k);
      if (seen.has(key)) throw new FgaError(400, 'cannot_allow_duplicate_tuples_in_one_request', `duplicate tuple in write: ${describe(k)}`);
      seen.add(key);
    }
    const writes: TupleKeyJson[] = [];
    const deletes: TupleKeyJson[] = [];
    if (req.writes.length) {
      const model = store.model(req.modelId);
      for (const k of req.writes) {
        const problem = tupleProblem(model, k);
        if (problem) throw validationError(`Invalid tuple '${tupleKeyString(k)}'. Reason: ${problem}`);
        const existing = store.tuples.get(k);
        if (existing) {
          const same = JSON.stringify(tupleJson(existing).condition ?? null) === JSON.stringify(tupleJson(toTuple(k, '')).condition ?? null);
          if (req.onDuplicate === 'ignore' && same) continue;
          throw new FgaError(
            400,
            'write_failed_due_to_invalid_input',
            `cannot write a tuple which already exists: ${describe(k)}: tuple to be written already existed or the tuple to be deleted did not exist`,
          );
        }
        writes.push(normalizeKey(k));
      }
    } else if (req.modelId) {
      store.model(req.modelId);
    }
    for (const k of req.deletes) {
      if (typeof k.object !== 'string' || !parseObject(k.object) || typeof k.user !== 'string' || !parseSubject(k.user) || typeof k.relation !== 'string' || !k.relation) {
        throw validationError(`Invalid tuple '${tupleKeyString(k)}'. Reason: the tuple key is malformed`);
      }
      if (!store.tuples.get(k)) {
        if (req.onMissing === 'ignore') continue;
        throw new FgaError(
          400,
          'write_failed_due_to_invalid_input',
          `cannot delete a tuple which does not exist: ${describe(k)}: tuple to be written already existed or the tuple to be deleted did not exist`,
        );
      }
      deletes.push({ object: k.object, relation: k.relation, user: k.user });
    }
    if (writes.length || deletes.length) this.record({ op: 'write', store: store.meta.id, at: new Date().toISOString(), writes, deletes });
  }
}

function normalizeKey(k: TupleKeyJson): TupleKeyJson {
  return {
    object: k.object,
    relation: k.relation,
    user: k.user,
    ...(k.condition?.name ? { condition: { name: k.condition.name, ...(k.condition.context ? { context: k.condition.context } : {}) } } : {}),
  };
}

export type { Tuple };
