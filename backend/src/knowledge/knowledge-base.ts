/**
 * The knowledge base's operations for one signed-in user: save (extract, chunk, embed, store, own in FGA), list,
 * read, delete, share and revoke, folders. FGA decides every access; someone who may not view a document is told
 * it does not exist (404), never that it is forbidden. Relationship changes drop the retrieval caches (F4).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type {
  CreateDocumentRequest,
  CreateFolderRequest,
  DocumentView,
  FolderView,
  ShareRequest,
  ShareSubject,
} from '../../../lib/protocol';
import { ApiError } from '../http/problem';
import type { Database } from '../store/schema';
import { chunkText } from './chunker';
import type { Directory } from './directory';
import { DocumentStore, isUuid, type StoredDocument } from './document-store';
import type { Embedder } from './embedder';
import { ExtractionError, extractText } from './extract';
import { ConsistencyPreference, type FgaClient, FgaUnavailableError, fgaUser, type Tuple } from './fga-client';
import { type AllowedDocumentsCache, LIST_OBJECTS_CAP } from './retriever';

type Role = 'owner' | 'editor' | 'viewer';
type ObjectType = 'document' | 'folder';
type ShareEntry = { subject: ShareSubject; relation: Role; label: string };

export const unavailable = () =>
  new ApiError(503, 'authorization_unavailable', 'Service Unavailable', 'Permissions could not be checked right now, so nothing was shown or changed. Try again.');

const hidden = (what: string) => new ApiError(404, 'not_found', 'Not Found', `${what} was not found.`);

export interface KnowledgeBaseDeps {
  db: Kysely<Database>;
  fga: FgaClient;
  embedder: Embedder;
  directory: Directory;
  cache: AllowedDocumentsCache;
}

export class KnowledgeBase {
  readonly documents: DocumentStore;

  constructor(private readonly deps: KnowledgeBaseDeps) {
    this.documents = new DocumentStore(deps.db);
  }

  /** Runs `fn`; FGA not answering becomes a 503 problem (fail closed). */
  private async guarded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof FgaUnavailableError) throw unavailable();
      throw err;
    }
  }

  async create(sub: string, req: CreateDocumentRequest): Promise<DocumentView> {
    return this.guarded(async () => {
      if (req.folderId && !(await this.mayEdit(sub, 'folder', req.folderId))) throw hidden('The folder');
      let extracted;
      try {
        extracted = await extractText(req);
      } catch (err) {
        if (err instanceof ExtractionError) throw new ApiError(422, err.code, 'Unprocessable Content', err.message);
        throw err;
      }
      const chunks = chunkText(extracted.text);
      let embeddings: number[][];
      try {
        embeddings = await this.deps.embedder.embed(chunks);
      } catch {
        throw new ApiError(503, 'embeddings_unavailable', 'Service Unavailable', 'The embeddings service did not answer, so the document was not saved. Try again.');
      }
      const id = randomUUID();
      const tuples: Tuple[] = [{ user: fgaUser(sub), relation: 'owner', object: `document:${id}` }];
      if (req.folderId) tuples.push({ user: `folder:${req.folderId}`, relation: 'parent', object: `document:${id}` });
      // FGA first: a stored document always has its owner; a tuple without a document points at nothing.
      await this.deps.fga.write(tuples);
      let doc: StoredDocument;
      try {
        doc = await this.documents.insert(
          { id, title: clean(req.title), url: req.url?.replace(/[\u0000-\u001F\u007F]/g, ''), source: req.source, contentType: req.contentType, folderId: req.folderId, createdBy: sub, chars: extracted.text.length, embedder: this.deps.embedder.id },
          chunks.map((text, i) => ({ text, embedding: embeddings[i] })),
        );
      } catch (err) {
        await this.deps.fga.write([], tuples).catch(() => {});
        throw err;
      }
      this.deps.cache.invalidate(req.folderId ? undefined : sub);
      return this.view(doc, 'owner');
    });
  }

  async list(sub: string): Promise<DocumentView[]> {
    return this.guarded(async () => {
      const ids = (await this.deps.fga.listObjects(fgaUser(sub), 'viewer', 'document', ConsistencyPreference.HigherConsistency)).filter(isUuid).slice(0, LIST_OBJECTS_CAP);
      const docs = await this.documents.getMany(ids);
      const roles = await this.roles(sub, 'document', docs.map((d) => d.id));
      const owners = await this.deps.directory.bySubs([...new Set(docs.map((d) => d.createdBy))]);
      return Promise.all(docs.map((d, i) => this.view(d, roles[i] ?? 'viewer', owners)));
    });
  }

  async get(sub: string, id: string): Promise<DocumentView> {
    return this.guarded(async () => {
      const [role] = await this.roles(sub, 'document', [id]);
      const doc = role && (await this.documents.get(id));
      if (!role || !doc) throw hidden('The document');
      return this.view(doc, role);
    });
  }

  async delete(sub: string, id: string): Promise<void> {
    return this.guarded(async () => {
      const [role] = await this.roles(sub, 'document', [id]);
      if (!role || !(await this.documents.get(id))) throw hidden('The document');
      if (role !== 'owner') throw new ApiError(403, 'not_owner', 'Forbidden', 'Only an owner can delete this document.');
      await this.documents.delete(id);
      const tuples = await this.deps.fga.readObject(`document:${id}`);
      for (let i = 0; i < tuples.length; i += 50) await this.deps.fga.write([], tuples.slice(i, i + 50));
      this.deps.cache.invalidate();
    });
  }

  async listShares(sub: string, type: ObjectType, id: string): Promise<ShareEntry[]> {
    return this.guarded(async () => {
      await this.requireManager(sub, type, id);
      const tuples = (await this.deps.fga.readObject(`${type}:${id}`)).filter((t) => t.relation === 'owner' || t.relation === 'editor' || t.relation === 'viewer');
      const subs = tuples.flatMap((t) => (t.user.startsWith('user:') ? [decodeId(t.user.slice(5))] : []));
      const people = await this.deps.directory.bySubs(subs);
      const out: ShareEntry[] = [];
      for (const t of tuples) {
        const relation = t.relation as Role;
        if (t.user.startsWith('user:')) {
          const p = people.get(decodeId(t.user.slice(5)));
          if (p?.email) out.push({ subject: { type: 'user', email: p.email }, relation, label: p.name ? `${p.name} (${p.email})` : p.email });
        } else if (t.user.startsWith('group:') && t.user.endsWith('#member')) {
          const group = t.user.slice(6, -7);
          out.push({ subject: { type: 'group', id: group }, relation, label: `Group ${group}` });
        } else if (t.user.startsWith('organization:') && t.user.endsWith('#member')) {
          out.push({ subject: { type: 'organization' }, relation, label: `Everyone in ${t.user.slice(13, -7)}` });
        }
      }
      const order: Record<Role, number> = { owner: 0, editor: 1, viewer: 2 };
      return out.sort((a, b) => order[a.relation] - order[b.relation] || a.label.localeCompare(b.label));
    });
  }

  async share(sub: string, type: ObjectType, id: string, req: ShareRequest): Promise<ShareEntry> {
    return this.guarded(async () => {
      await this.requireManager(sub, type, id);
      const { user, entry } = await this.resolveSubject(sub, req);
      await this.deps.fga.write([{ user, relation: req.relation, object: `${type}:${id}` }]);
      this.deps.cache.invalidate();
      return entry;
    });
  }

  async revoke(sub: string, type: ObjectType, id: string, req: ShareRequest): Promise<void> {
    return this.guarded(async () => {
      await this.requireManager(sub, type, id);
      // Removing a group's grant needs no membership: an editor may have shared with a group the owner is not in,
      // and the owner must still be able to take it back (revoking what is not there is a no-op, so nothing leaks).
      const user = req.subject.type === 'group' && GROUP_ID.test(req.subject.id) ? `group:${req.subject.id}#member` : (await this.resolveSubject(sub, req)).user;
      await this.deps.fga.write([], [{ user, relation: req.relation, object: `${type}:${id}` }]);
      // Dropped before answering, so the user's next retrieval (and everyone else's) asks FGA afresh (F1, F4).
      this.deps.cache.invalidate();
    });
  }

  async createFolder(sub: string, req: CreateFolderRequest): Promise<FolderView> {
    return this.guarded(async () => {
      if (req.parentId && !(await this.mayEdit(sub, 'folder', req.parentId))) throw hidden('The parent folder');
      if (req.parentId && (await this.folderDepth(req.parentId)) >= MAX_FOLDER_DEPTH) {
        throw new ApiError(422, 'folder_too_deep', 'Unprocessable Content', `Folders can be nested at most ${MAX_FOLDER_DEPTH} deep.`);
      }
      const id = randomUUID();
      const tuples: Tuple[] = [{ user: fgaUser(sub), relation: 'owner', object: `folder:${id}` }];
      if (req.parentId) tuples.push({ user: `folder:${req.parentId}`, relation: 'parent', object: `folder:${id}` });
      await this.deps.fga.write(tuples);
      const row = await this.deps.db
        .insertInto('kb_folders')
        .values({ id, name: clean(req.name), parent_id: req.parentId ?? null, created_by: sub })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { id, name: row.name, parentId: row.parent_id ?? undefined, createdAt: new Date(row.created_at).toISOString(), role: 'owner' };
    });
  }

  async listFolders(sub: string): Promise<FolderView[]> {
    return this.guarded(async () => {
      const ids = (await this.deps.fga.listObjects(fgaUser(sub), 'viewer', 'folder', ConsistencyPreference.HigherConsistency)).filter(isUuid).slice(0, LIST_OBJECTS_CAP);
      if (!ids.length) return [];
      const rows = await this.deps.db.selectFrom('kb_folders').selectAll().where('id', 'in', ids).orderBy('name').execute();
      const roles = await this.roles(sub, 'folder', rows.map((r) => r.id));
      return rows.map((r, i) => ({ id: r.id, name: r.name, parentId: r.parent_id ?? undefined, createdAt: new Date(r.created_at).toISOString(), role: roles[i] ?? 'viewer' }));
    });
  }

  /** How many folders deep `id` is (a top-level folder: 1), counting at most MAX_FOLDER_DEPTH. */
  private async folderDepth(id: string): Promise<number> {
    let depth = 0;
    for (let at: string | null = id; at && depth < MAX_FOLDER_DEPTH; depth++) {
      const row: { parent_id: string | null } | undefined = await this.deps.db.selectFrom('kb_folders').select('parent_id').where('id', '=', at).executeTakeFirst();
      at = row?.parent_id ?? null;
    }
    return depth;
  }

  async groups(sub: string): Promise<string[]> {
    return this.guarded(async () => (await this.deps.fga.listObjects(fgaUser(sub), 'member', 'group', ConsistencyPreference.HigherConsistency)).sort());
  }

  /** The caller's strongest relation to each object (undefined: none), from one batch-check at higher consistency. */
  private async roles(sub: string, type: ObjectType, ids: string[]): Promise<Array<Role | undefined>> {
    if (!ids.length) return [];
    const rels: Role[] = ['owner', 'editor', 'viewer'];
    const checks = ids.flatMap((id) => rels.map((relation) => ({ user: fgaUser(sub), relation, object: `${type}:${id}` })));
    const ok = await this.deps.fga.batchCheck(checks);
    return ids.map((_, i) => rels.find((_, j) => ok[i * 3 + j]));
  }

  private async mayEdit(sub: string, type: ObjectType, id: string): Promise<boolean> {
    return this.deps.fga.check({ user: fgaUser(sub), relation: 'editor', object: `${type}:${id}` });
  }

  /** Owners and editors manage shares; a viewer is told so (they know it exists); anyone else gets 404. */
  private async requireManager(sub: string, type: ObjectType, id: string): Promise<Role> {
    const [role] = await this.roles(sub, type, [id]);
    const exists = type === 'document' ? Boolean(await this.documents.get(id)) : await this.documents.folderExists(id);
    if (!role || !exists) throw hidden(type === 'document' ? 'The document' : 'The folder');
    if (role === 'viewer') throw new ApiError(403, 'not_allowed_to_share', 'Forbidden', 'Only owners and editors can see and change who has access.');
    return role;
  }

  private async resolveSubject(sub: string, req: ShareRequest): Promise<{ user: string; entry: ShareEntry }> {
    const s = req.subject;
    if (s.type === 'user') {
      const person = await this.deps.directory.byEmail(s.email);
      if (!person) throw new ApiError(404, 'unknown_user', 'Not Found', `Nobody with the e-mail ${s.email} has signed in to Deputy yet.`);
      if (person.sub === sub) throw new ApiError(400, 'cannot_share_with_self', 'Bad Request', 'You already have access.');
      return { user: fgaUser(person.sub), entry: { subject: { type: 'user', email: person.email ?? s.email }, relation: req.relation, label: person.name ? `${person.name} (${person.email ?? s.email})` : (person.email ?? s.email) } };
    }
    if (s.type === 'group') {
      // You can share with the groups you are in: group ids are not a directory anyone can enumerate.
      if (!GROUP_ID.test(s.id) || !(await this.deps.fga.check({ user: fgaUser(sub), relation: 'member', object: `group:${s.id}` }))) {
        throw new ApiError(404, 'unknown_group', 'Not Found', `You are not a member of a group called ${s.id}.`);
      }
      return { user: `group:${s.id}#member`, entry: { subject: s, relation: req.relation, label: `Group ${s.id}` } };
    }
    const [org] = (await this.deps.fga.listObjects(fgaUser(sub), 'member', 'organization', ConsistencyPreference.HigherConsistency)).sort();
    if (!org) throw new ApiError(409, 'no_organization', 'Conflict', 'You are not a member of an organisation, so there is nobody to share with as one.');
    return { user: `organization:${org}#member`, entry: { subject: s, relation: req.relation, label: `Everyone in ${org}` } };
  }

  private async view(d: StoredDocument, role: Role, people?: Map<string, { name?: string; email?: string }>): Promise<DocumentView> {
    const owner = (people ?? (await this.deps.directory.bySubs([d.createdBy]))).get(d.createdBy);
    return {
      id: d.id,
      title: d.title,
      ...(d.url ? { url: d.url } : {}),
      source: d.source,
      contentType: d.contentType as DocumentView['contentType'],
      ...(d.folderId ? { folderId: d.folderId } : {}),
      chunks: d.chunkCount,
      chars: d.chars,
      createdAt: d.createdAt,
      ...(owner?.name || owner?.email ? { ownerName: owner.name ?? owner.email } : {}),
      role,
    };
  }
}

/** Postgres text cannot hold NUL; other control characters have no place in a title either. */
const clean = (s: string) => s.replace(/[\u0000-\u001F\u007F]/g, ' ').trim() || 'Untitled';

const GROUP_ID = /^[A-Za-z0-9_.-]{1,100}$/;
/**
 * Each folder level is another hop for FGA (viewer from parent), and OpenFGA refuses checks deeper than 25
 * resolutions: a deeper chain shared with the organisation would make list-objects fail for everyone in it.
 */
export const MAX_FOLDER_DEPTH = 8;
const decodeId = (s: string) => s.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
