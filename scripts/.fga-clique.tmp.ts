import { transformer } from '@openfga/syntax-transformer';
import { compileModel } from '../backend/emulators/fga/model';
import { Evaluation } from '../backend/emulators/fga/evaluator';
import { parseSubject, toTuple, TupleIndex } from '../backend/emulators/fga/tuples';
const m = compileModel('01HZZZZZZZZZZZZZZZZZZZZZZZ', transformer.transformDSLToJSONObject(`model
  schema 1.1
type user
type group
  relations
    define member: [user, group#member]
`));
for (const n of [6, 10, 12, 16, 20, 24, 30]) {
  const idx = new TupleIndex();
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) idx.add(toTuple({ object: `group:g${i}`, relation: 'member', user: `group:g${j}#member` }, ''));
  const t = performance.now();
  const r = new Evaluation(m, idx).check('group', 'g0', 'member', parseSubject('user:nobody')!);
  const t2 = performance.now();
  const lo = new Evaluation(m, idx).listObjectIds('group', 'member', parseSubject('user:nobody')!);
  console.log(n, r, (t2 - t).toFixed(1), 'ms check;', lo.size, (performance.now() - t2).toFixed(1), 'ms list');
}
