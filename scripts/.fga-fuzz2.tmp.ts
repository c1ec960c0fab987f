import fc from 'fast-check';
import { transformer } from '@openfga/syntax-transformer';
import { startFgaServer } from '../backend/emulators/fga/server';
const unexpected: string[] = [];
const server = await startFgaServer({ port: 0, log: (l) => { if (l.includes('unexpected')) unexpected.push(l.slice(0, 600)); } });
const post = async (p: string, b: unknown, m = 'POST') => { const r = await fetch(server.url + p, { method: m, headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) }); return r.json().catch(() => ({})); };
const { id: store } = await post('/stores', { name: 'f' }) as any;
const model = transformer.transformDSLToJSONObject(`model
  schema 1.1
type user
type group
  relations
    define member: [user, group#member]
type document
  relations
    define viewer: [user, group#member, user with office_hours]
condition office_hours(hour: int, start: int, end: int) {
  hour >= start && hour < end
}
`) as any;
const { authorization_model_id: modelId } = await post(`/stores/${store}/authorization-models`, model) as any;
const routes: Array<[string, string, Record<string, unknown>]> = [
  ['POST', '/stores', { name: 'fuzzed' }],
  ['POST', `/stores/${store}/authorization-models`, model],
  ['POST', `/stores/${store}/write`, { writes: { tuple_keys: [{ user: 'user:x', relation: 'member', object: 'group:fuzz' }], on_duplicate: 'ignore' } }],
  ['POST', `/stores/${store}/read`, { tuple_key: { object: 'group:eng' }, page_size: 5 }],
  ['POST', `/stores/${store}/changes`, { type: 'group', page_size: 5 }],
  ['POST', `/stores/${store}/check`, { tuple_key: { user: 'user:anne', relation: 'viewer', object: 'document:press' }, context: { hour: 3 } }],
  ['POST', `/stores/${store}/batch-check`, { checks: [{ tuple_key: { user: 'user:anne', relation: 'viewer', object: 'document:press' }, correlation_id: 'x' }] }],
  ['POST', `/stores/${store}/list-objects`, { user: 'user:anne', relation: 'viewer', type: 'document' }],
  ['POST', `/stores/${store}/list-users`, { object: { type: 'document', id: 'press' }, relation: 'viewer', user_filters: [{ type: 'user' }] }],
  ['POST', `/stores/${store}/expand`, { tuple_key: { relation: 'viewer', object: 'document:press' } }],
  ['PUT', `/stores/${store}/assertions/${modelId}`, { assertions: [{ tuple_key: { user: 'user:anne', relation: 'viewer', object: 'document:press' }, expectation: true }] }],
];
const mutate = (sample: Record<string, unknown>) => fc.oneof(fc.jsonValue(), fc.record({ key: fc.constantFrom(...Object.keys(sample)), value: fc.jsonValue() }).map(({ key, value }) => ({ ...sample, [key]: value })), fc.constantFrom(...Object.keys(sample)).map((key) => Object.fromEntries(Object.entries(sample).filter(([k]) => k !== key))));
for (const [method, p, sample] of routes) {
  await fc.assert(fc.asyncProperty(mutate(sample), async (body) => {
    const res = await fetch(`${server.url}${p}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status >= 500) throw new Error(`5xx ${p} ${JSON.stringify(body)}`);
    const txt = await res.text();
    if (res.status >= 400) { const j = JSON.parse(txt); if (typeof j.code !== 'string' || typeof j.message !== 'string') throw new Error('shape ' + txt); }
    if (unexpected.length) throw new Error(`unexpected on ${p} with ${JSON.stringify(body).slice(0, 300)}: ${unexpected[0]}`);
  }), { numRuns: 1500 });
}
console.log('ok');
await server.close();
