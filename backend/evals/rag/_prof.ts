import inspector from 'node:inspector/promises';
import { startFgaServer } from '../../emulators/fga/server';
import { Corpus, userSub } from './corpus';
import { loadFga, loadStore } from './load';
import { DocumentStore } from '../../src/knowledge/document-store';
import { HashingEmbedder } from '../../src/knowledge/embedder';
import { FgaClient } from '../../src/knowledge/fga-client';
import { connectFga } from '../../src/knowledge/fga-setup';
import { AuthorizedRetriever } from '../../src/knowledge/retriever';
import { openStore } from '../../src/store/database';
const N = Number(process.argv[2] ?? 2000);
const srv = await startFgaServer({ port: 0 });
const store = await openStore({ pgliteDir: 'memory://' });
const corpus = new Corpus({ chunks: N * 10, docs: N, users: N / 10, groups: 20, publicDocs: 5, seed: 1 });
const emb = new HashingEmbedder();
const { fga: lf } = await connectFga({ apiUrl: srv.url, timeoutMs: 30000, storeName: 'probe' });
await loadFga(lf, corpus);
await loadStore(store.db, corpus, emb, { maintenanceWorkMem: '1GB' });
const fga = new FgaClient({ apiUrl: srv.url, timeoutMs: 2000, storeId: lf.storeId, modelId: lf.options.modelId });
const r = new AuthorizedRetriever({ documents: new DocumentStore(store.db), fga, embedder: emb });
const qs = corpus.queries(300);
for (const q of qs.slice(0, 30)) { r.cache.invalidate(userSub(q.user)); await r.retrieve(userSub(q.user), q.text, { k: 10, strategy: 'pre' }); }
const session = new inspector.Session(); session.connect();
await session.post('Profiler.enable'); await session.post('Profiler.setSamplingInterval', { interval: 200 }); await session.post('Profiler.start');
const c0 = process.cpuUsage(); const t0 = performance.now();
for (const q of qs) { r.cache.invalidate(userSub(q.user)); await r.retrieve(userSub(q.user), q.text, { k: 10, strategy: 'pre' }); }
const cpu = process.cpuUsage(c0); console.log('per query cpu ms', ((cpu.user + cpu.system) / 1000 / qs.length).toFixed(2), 'wall', ((performance.now() - t0) / qs.length).toFixed(2));
const { profile } = await session.post('Profiler.stop');
const self = new Map<string, number>(); const byId = new Map(profile.nodes.map((n: any) => [n.id, n]));
const dt = profile.timeDeltas; const counts = new Map<number, number>();
profile.samples.forEach((s: number, i: number) => counts.set(s, (counts.get(s) ?? 0) + (dt[i] ?? 0)));
let total = 0;
for (const [id, t] of counts) { const n: any = byId.get(id); const cf = n.callFrame; const key = `${cf.functionName || '(anon)'} ${cf.url.replace(/.*node_modules\//, '').replace(/.*\/work\/main\//, '')}:${cf.lineNumber}`; self.set(key, (self.get(key) ?? 0) + t); total += t; }
// aggregate by file too
const byFile = new Map<string, number>();
for (const [k, t] of self) { const f = k.split(' ').slice(1).join(' ').replace(/:\d+$/, '').split('/').slice(0, 2).join('/'); byFile.set(f, (byFile.get(f) ?? 0) + t); }
console.log('by package/file (% of samples):'); [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15).forEach(([k, t]) => console.log((100 * t / total).toFixed(1).padStart(6), k));
console.log('top functions:'); [...self].sort((a, b) => b[1] - a[1]).slice(0, 25).forEach(([k, t]) => console.log((100 * t / total).toFixed(1).padStart(6), k));
await store.close(); await srv.close();
