import fs from 'node:fs';
import { transformer } from '@openfga/syntax-transformer';
import { FgaState } from '../backend/emulators/fga/state';
import { Evaluation } from '../backend/emulators/fga/evaluator';
import { parseSubject } from '../backend/emulators/fga/tuples';
let seed = 42;
const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const pick = (n: number) => Math.floor(rand() * n);
const USERS=1000, DOCS=10000, GROUPS=100, FOLDERS=500;
const tuples: any[] = [];
const add = (user: string, relation: string, object: string) => tuples.push({ user, relation, object });
for (let u = 0; u < USERS; u++) if (rand() < 0.9) add(`user:u${u}`, 'member', 'organization:acme');
for (let u = 0; u < USERS; u++) { for (const g of new Set([pick(GROUPS), pick(GROUPS), pick(GROUPS)])) add(`user:u${u}`, 'member', `group:g${g}`); }
for (let g = 0; g < GROUPS; g += 5) add(`group:g${g + 1}#member`, 'member', `group:g${g}`);
for (let f = 0; f < FOLDERS; f++) { if (f >= 20) add(`folder:f${pick(20)}`, 'parent', `folder:f${f}`); add(`user:u${pick(USERS)}`, 'owner', `folder:f${f}`); add(`group:g${pick(GROUPS)}#member`, 'viewer', `folder:f${f}`); }
for (let d = 0; d < DOCS; d++) { const doc = `document:d${d}`; add(`folder:f${pick(FOLDERS)}`, 'parent', doc); add(`user:u${pick(USERS)}`, 'owner', doc); add(`user:u${pick(USERS)}`, 'editor', doc);
  for (const v of new Set([pick(USERS), pick(USERS), pick(USERS), pick(USERS)])) add(`user:u${v}`, 'viewer', doc);
  add(`group:g${pick(GROUPS)}#member`, 'viewer', doc); if (d % 10 === 0) add('organization:acme#member', 'viewer', doc); }
const st = new FgaState(undefined, { maxTuplesPerWrite: 1e9 });
const s = st.createStore('x');
st.writeModel(s.id, transformer.transformDSLToJSONObject(fs.readFileSync('backend/src/knowledge/authorization-model.fga','utf8')));
st.write(s.id, { writes: tuples, deletes: [], onDuplicate: 'ignore', onMissing: 'error' });
const store = st.store(s.id); const model = store.model();
const times: number[] = []; const btimes: number[] = [];
for (let i = 0; i < 400; i++) {
  const subj = parseSubject(`user:u${pick(USERS)}`)!;
  let t = performance.now();
  const ev = new Evaluation(model, store.tuples, {});
  const n = ev.listObjectIds('document', 'viewer', subj).size;
  times.push(performance.now() - t);
  t = performance.now();
  const ev2 = new Evaluation(model, store.tuples, {});
  for (let j = 0; j < 50; j++) ev2.check('document', `d${pick(DOCS)}`, 'viewer', subj);
  btimes.push(performance.now() - t);
}
const p = (xs: number[]) => { const s = [...xs].sort((a,b)=>a-b); return { p50: s[Math.floor(s.length/2)].toFixed(2), p95: s[Math.floor(s.length*0.95)].toFixed(2) }; };
console.log('list', p(times.slice(50)), 'batch50', p(btimes.slice(50)));
