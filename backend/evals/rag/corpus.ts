/**
 * A deterministic synthetic knowledge base for the retrieval benchmark: users, groups (skewed sizes, some nested),
 * folders (some nested, some shared), documents with chunks of topical text, selective sharing and a few org-wide
 * documents. Everything derives from `seed`, so two runs measure the same data.
 *
 * Besides the FGA tuples, the generator keeps its own answer to "which documents may this user view?"
 * (`visibleDocuments`), computed from the same relationships without FGA: the benchmark's ground truth, and a check
 * that FGA agrees with it.
 */
import type { Tuple } from '../../src/knowledge/fga-client';

export interface CorpusSpec {
  chunks: number;
  docs: number;
  users: number;
  groups: number;
  /** Documents shared with the whole organisation. */
  publicDocs: number;
  seed: number;
}

export interface BenchDocument {
  id: string;
  title: string;
  owner: number;
  folder?: number;
  topic: number;
  chunkCount: number;
}

export interface BenchFolder {
  id: string;
  owner: number;
  parent?: number;
}

export const ORG = 'organization:acme';
export const userSub = (u: number) => `bench-u${u}`;

/** mulberry32: small, fast, good enough for synthetic data. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  /** Zipf-like over [0, n): small indices much more likely. */
  const skewed = (n: number, s = 1.1) => Math.min(n - 1, Math.floor(n ** (next() ** s) - 1));
  /** Zipf-like with P(rank r) ∝ 1/(r + offset): a long tail without one word in every text. */
  const zipf = (n: number, offset: number) => Math.min(n - 1, Math.floor(offset * ((n + offset) / offset) ** next() - offset));
  const uuid = () => {
    const h = Array.from({ length: 32 }, () => int(16).toString(16));
    h[12] = '4';
    h[16] = (8 + int(4)).toString(16);
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  };
  return { next, int, skewed, zipf, uuid };
}

const SYLLABLES = 'ka lo mi ra tu ve si no pa de ri zu fa lem tor gan bel dor vin sar mek pol tas nir quo hal jun wex bry cla'.split(' ');

/** Pseudo-words: letters only, so full-text search treats them as words (English stemming applies to all alike). */
function makeWords(rand: ReturnType<typeof prng>, n: number, used: Set<string>): string[] {
  const out: string[] = [];
  while (out.length < n) {
    const parts = 2 + rand.int(3);
    let w = '';
    for (let i = 0; i < parts; i++) w += SYLLABLES[rand.int(SYLLABLES.length)];
    if (used.has(w)) continue;
    used.add(w);
    out.push(w);
  }
  return out;
}

const TOPIC_WORDS = 24;
const WORDS_PER_CHUNK = 48;

export class Corpus {
  readonly documents: BenchDocument[] = [];
  readonly folders: BenchFolder[] = [];
  /** Direct members of each group, and the groups nested into it (`group:child#member member group:parent`). */
  readonly groupUsers: number[][] = [];
  readonly groupNested: number[][] = [];
  readonly topics: string[][] = [];
  readonly filler: string[];
  readonly tuples: Tuple[] = [];
  private readonly textSeed: number;
  /** principal (`user:…`, `group:…#member`, `organization:…#member`) → documents it may view directly or via folders. */
  private readonly docsByPrincipal = new Map<string, Set<number>>();

  constructor(readonly spec: CorpusSpec) {
    const rand = prng(spec.seed);
    this.textSeed = spec.seed * 7919 + 17;
    const used = new Set<string>();
    const topicCount = Math.max(20, Math.round(spec.docs / 50));
    for (let t = 0; t < topicCount; t++) this.topics.push(makeWords(rand, TOPIC_WORDS, used));
    this.filler = makeWords(rand, 3000, used);
    const add = (user: string, relation: string, object: string) => this.tuples.push({ user, relation, object });

    // Everyone is in the organisation; group sizes are skewed (a few big teams, many small ones).
    for (let u = 0; u < spec.users; u++) add(`user:${userSub(u)}`, 'member', ORG);
    for (let g = 0; g < spec.groups; g++) {
      this.groupUsers.push([]);
      this.groupNested.push([]);
    }
    for (let u = 0; u < spec.users; u++) {
      const mine = new Set<number>();
      const n = 1 + rand.int(3);
      while (mine.size < Math.min(n, spec.groups)) mine.add(rand.skewed(spec.groups, 0.8));
      for (const g of mine) {
        this.groupUsers[g].push(u);
        add(`user:${userSub(u)}`, 'member', `group:g${g}`);
      }
    }
    // Some nesting: every tenth group contains the members of the next one.
    for (let g = 0; g + 1 < spec.groups; g += 10) {
      this.groupNested[g].push(g + 1);
      add(`group:g${g + 1}#member`, 'member', `group:g${g}`);
    }

    // Folders: about one per five documents, owned by users; a third nested under another folder of the same owner.
    const folderCount = Math.max(1, Math.round(spec.docs / 5));
    const byOwner = new Map<number, number[]>();
    for (let f = 0; f < folderCount; f++) {
      const owner = rand.int(spec.users);
      const siblings = byOwner.get(owner) ?? [];
      const parent = siblings.length && rand.next() < 0.33 ? siblings[rand.int(siblings.length)] : undefined;
      const folder: BenchFolder = { id: rand.uuid(), owner, ...(parent !== undefined ? { parent } : {}) };
      this.folders.push(folder);
      siblings.push(f);
      byOwner.set(owner, siblings);
      add(`user:${userSub(owner)}`, 'owner', `folder:${folder.id}`);
      if (parent !== undefined) add(`folder:${this.folders[parent].id}`, 'parent', `folder:${folder.id}`);
      const r = rand.next();
      if (r < 0.15) add(`group:g${rand.int(spec.groups)}#member`, 'viewer', `folder:${folder.id}`);
      else if (r < 0.25) add(`user:${userSub(rand.int(spec.users))}`, 'editor', `folder:${folder.id}`);
    }

    // Documents: owned, in one of the owner's folders (or none), shared with a few people, sometimes a group.
    const avg = spec.chunks / spec.docs;
    const counts = Array.from({ length: spec.docs }, () => 1 + rand.int(Math.max(1, Math.round(2 * avg - 1))));
    let diff = spec.chunks - counts.reduce((a, b) => a + b, 0);
    while (diff !== 0) {
      const i = rand.int(spec.docs);
      if (diff > 0) (counts[i]++, diff--);
      else if (counts[i] > 1) (counts[i]--, diff++);
    }
    const publicEvery = spec.publicDocs > 0 ? spec.docs / spec.publicDocs : Infinity;
    for (let d = 0; d < spec.docs; d++) {
      const owner = rand.int(spec.users);
      const ownFolders = byOwner.get(owner);
      const folder = ownFolders && rand.next() < 0.7 ? ownFolders[rand.int(ownFolders.length)] : undefined;
      const topic = rand.int(topicCount);
      const doc: BenchDocument = { id: rand.uuid(), title: `${this.topics[topic][0]} ${this.topics[topic][1]} notes ${d}`, owner, topic, chunkCount: counts[d], ...(folder !== undefined ? { folder } : {}) };
      this.documents.push(doc);
      const object = `document:${doc.id}`;
      add(`user:${userSub(owner)}`, 'owner', object);
      if (folder !== undefined) add(`folder:${this.folders[folder].id}`, 'parent', object);
      const shares = new Set<number>();
      const n = rand.int(4);
      for (let i = 0; i < n; i++) shares.add(rand.int(spec.users));
      shares.delete(owner);
      for (const u of shares) add(`user:${userSub(u)}`, rand.next() < 0.8 ? 'viewer' : 'editor', object);
      if (rand.next() < 0.05) add(`group:g${rand.int(spec.groups)}#member`, 'viewer', object);
      if (Math.floor((d + 1) / publicEvery) > Math.floor(d / publicEvery)) add(`${ORG}#member`, 'viewer', object);
    }
    this.indexVisibility();
  }

  /** Inverts the tuples into principal → viewable documents, following folder parents (the model's inheritance). */
  private indexVisibility() {
    const folderIndex = new Map(this.folders.map((f, i) => [`folder:${f.id}`, i]));
    const docIndex = new Map(this.documents.map((d, i) => [`document:${d.id}`, i]));
    const folderPrincipals: Set<string>[] = this.folders.map(() => new Set());
    const docPrincipals: Set<string>[] = this.documents.map(() => new Set());
    const folderParent: Array<number | undefined> = this.folders.map((f) => f.parent);
    const docFolder: Array<number | undefined> = this.documents.map((d) => d.folder);
    for (const t of this.tuples) {
      if (t.relation !== 'owner' && t.relation !== 'editor' && t.relation !== 'viewer') continue;
      const f = folderIndex.get(t.object);
      if (f !== undefined) folderPrincipals[f].add(t.user);
      const d = docIndex.get(t.object);
      if (d !== undefined) docPrincipals[d].add(t.user);
    }
    const inherited = (f: number | undefined): string[] => {
      const out: string[] = [];
      for (let cur = f, hops = 0; cur !== undefined && hops < 50; cur = folderParent[cur], hops++) out.push(...folderPrincipals[cur]);
      return out;
    };
    this.documents.forEach((_, d) => {
      for (const p of [...docPrincipals[d], ...inherited(docFolder[d])]) {
        let set = this.docsByPrincipal.get(p);
        if (!set) this.docsByPrincipal.set(p, (set = new Set()));
        set.add(d);
      }
    });
  }

  /** Groups whose members include user `u`, directly or through nesting. */
  groupsOf(u: number): number[] {
    const out = new Set<number>();
    const stack = this.groupUsers.flatMap((members, g) => (members.includes(u) ? [g] : []));
    while (stack.length) {
      const g = stack.pop()!;
      if (out.has(g)) continue;
      out.add(g);
      this.groupNested.forEach((children, parent) => {
        if (children.includes(g)) stack.push(parent);
      });
    }
    return [...out];
  }

  /** Ground truth, without FGA: the indices of the documents user `u` may view. */
  visibleDocuments(u: number): Set<number> {
    const principals = [`user:${userSub(u)}`, `${ORG}#member`, ...this.groupsOf(u).map((g) => `group:g${g}#member`)];
    const out = new Set<number>();
    for (const p of principals) for (const d of this.docsByPrincipal.get(p) ?? []) out.add(d);
    return out;
  }

  /** Chunk texts of document `d`, regenerated on demand (deterministic per document, nothing kept in memory). */
  chunkTexts(d: number): string[] {
    const doc = this.documents[d];
    const rand = prng(this.textSeed + d * 104_729);
    const main = this.topics[doc.topic];
    const second = this.topics[(doc.topic * 31 + 7) % this.topics.length];
    const out: string[] = [];
    for (let c = 0; c < doc.chunkCount; c++) {
      const words: string[] = [];
      for (let i = 0; i < WORDS_PER_CHUNK; i++) {
        const r = rand.next();
        words.push(r < 0.3 ? main[rand.skewed(main.length, 1.2)] : r < 0.4 ? second[rand.int(second.length)] : this.filler[rand.zipf(this.filler.length, 50)]);
      }
      out.push(`${words.join(' ')}.`);
    }
    return out;
  }

  /**
   * `n` queries from random users: 2-4 words of one topic, half the time a topic of a document the user can see
   * (people mostly ask about what they have), sometimes with a common word.
   */
  queries(n: number, seed = this.spec.seed + 1): Array<{ user: number; text: string }> {
    const rand = prng(seed * 31 + 5);
    const out: Array<{ user: number; text: string }> = [];
    for (let i = 0; i < n; i++) {
      const user = rand.int(this.spec.users);
      let topic = rand.int(this.topics.length);
      if (rand.next() < 0.5) {
        const visible = [...this.visibleDocuments(user)];
        if (visible.length) topic = this.documents[visible[rand.int(visible.length)]].topic;
      }
      const words = new Set<string>();
      const k = 2 + rand.int(3);
      while (words.size < k) words.add(this.topics[topic][rand.skewed(TOPIC_WORDS, 1.2)]);
      if (rand.next() < 0.3) words.add(this.filler[rand.zipf(300, 50)]);
      out.push({ user, text: [...words].join(' ') });
    }
    return out;
  }
}
