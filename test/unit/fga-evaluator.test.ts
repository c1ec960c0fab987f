/**
 * The OpenFGA-compatible evaluator without HTTP: ListObjects and ListUsers must agree with Check on random
 * relationship graphs (nested groups, folder cycles, wildcards, exclusion, intersection), conditions evaluate CEL
 * with OpenFGA's parameter types, and models are validated when written.
 */
import fc from 'fast-check';
import { transformer } from '@openfga/syntax-transformer';
import { describe, expect, it } from 'vitest';
import { compileCondition } from '../../backend/emulators/fga/conditions';
import { FgaError } from '../../backend/emulators/fga/errors';
import { Evaluation } from '../../backend/emulators/fga/evaluator';
import { compileModel } from '../../backend/emulators/fga/model';
import { parseSubject, toTuple, TupleIndex, type TupleKeyJson } from '../../backend/emulators/fga/tuples';

const DSL = `model
  schema 1.1
type user
type group
  relations
    define member: [user, user:*, group#member]
type folder
  relations
    define parent: [folder]
    define blocked: [user, group#member]
    define viewer: ([user, group#member] or viewer from parent) but not blocked
type doc
  relations
    define parent: [folder]
    define owner: [user]
    define editor: [user, group#member] or owner
    define viewer: [user, user:*, group#member, user with flagged] or editor or viewer from parent
    define approver: editor and viewer from parent
condition flagged(flag: bool) {
  flag
}
`;
const model = compileModel('01HZZZZZZZZZZZZZZZZZZZZZZZ', transformer.transformDSLToJSONObject(DSL));

const users = ['user:u0', 'user:u1', 'user:u2', 'user:u3'];
const groups = ['g0', 'g1', 'g2'];
const folders = ['f0', 'f1', 'f2'];
const docs = ['d0', 'd1', 'd2', 'd3'];
const groupUser = fc.constantFrom(...users, 'user:*', ...groups.map((g) => `group:${g}#member`));
const principal = fc.constantFrom(...users, ...groups.map((g) => `group:${g}#member`));

const tupleArb: fc.Arbitrary<TupleKeyJson> = fc.oneof(
  fc.record({ object: fc.constantFrom(...groups.map((g) => `group:${g}`)), relation: fc.constant('member'), user: groupUser }),
  fc.record({ object: fc.constantFrom(...folders.map((f) => `folder:${f}`)), relation: fc.constant('parent'), user: fc.constantFrom(...folders.map((f) => `folder:${f}`)) }),
  fc.record({ object: fc.constantFrom(...folders.map((f) => `folder:${f}`)), relation: fc.constantFrom('viewer', 'blocked'), user: principal }),
  fc.record({ object: fc.constantFrom(...docs.map((d) => `doc:${d}`)), relation: fc.constant('parent'), user: fc.constantFrom(...folders.map((f) => `folder:${f}`)) }),
  fc.record({ object: fc.constantFrom(...docs.map((d) => `doc:${d}`)), relation: fc.constant('owner'), user: fc.constantFrom(...users) }),
  fc.record({ object: fc.constantFrom(...docs.map((d) => `doc:${d}`)), relation: fc.constantFrom('editor', 'viewer'), user: principal }),
  fc.record({ object: fc.constantFrom(...docs.map((d) => `doc:${d}`)), relation: fc.constant('viewer'), user: fc.constant('user:*') }),
  // Conditioned: the flag in the tuple, or left to the request's context (which may not have it either).
  fc.record({
    object: fc.constantFrom(...docs.map((d) => `doc:${d}`)),
    relation: fc.constant('viewer'),
    user: fc.constantFrom(...users),
    condition: fc.record({ name: fc.constant('flagged'), context: fc.option(fc.record({ flag: fc.boolean() }), { nil: undefined }) }, { requiredKeys: ['name'] }),
  }),
);

function indexOf(keys: TupleKeyJson[]): TupleIndex {
  const index = new TupleIndex();
  for (const k of keys) index.add(toTuple(k, ''));
  return index;
}

describe('FGA evaluator', () => {
  it('ListObjects returns exactly the objects Check allows, and ListUsers only users Check allows', () => {
    fc.assert(
      fc.property(fc.array(tupleArb, { maxLength: 30 }), fc.option(fc.boolean(), { nil: undefined }), (keys, flag) => {
        const index = indexOf(keys);
        const context = flag === undefined ? {} : { flag };
        const subjects = [...users, 'user:*', ...groups.map((g) => `group:${g}#member`)];
        const queries: Array<[string, string, string[]]> = [
          ['doc', 'viewer', docs],
          ['doc', 'approver', docs],
          ['folder', 'viewer', folders],
          ['group', 'member', groups],
        ];
        for (const raw of subjects) {
          const subject = parseSubject(raw)!;
          for (const [type, relation, ids] of queries) {
            const listed = new Evaluation(model, index, context).listObjectIds(type, relation, subject);
            const checker = new Evaluation(model, index, context);
            const allowed = ids.filter((id) => checker.check(type, id, relation, subject));
            if (subject.type === type && subject.relation === relation && !allowed.includes(subject.id)) allowed.push(subject.id);
            expect([...listed].sort(), `${type}#${relation}@${raw}`).toEqual(allowed.sort());
          }
        }
        for (const d of docs) {
          const listed = new Evaluation(model, index, context).listUsers('doc', d, 'viewer', [{ type: 'user' }]);
          const checker = new Evaluation(model, index, context);
          const names = listed.map((u) => ('object' in u ? `user:${u.object.id}` : 'wildcard' in u ? 'user:*' : '?'));
          for (const n of names) expect(checker.check('doc', d, 'viewer', parseSubject(n)!), `doc:${d} lists ${n}`).toBe(true);
          for (const u of users) {
            if (checker.check('doc', d, 'viewer', parseSubject(u)!)) expect(names.includes(u) || names.includes('user:*'), `doc:${d} misses ${u}`).toBe(true);
          }
        }
      }),
      { numRuns: Number(process.env.FGA_PROPERTY_RUNS ?? 300) },
    );
  }, 600_000);

  it('treats a cycle through an exclusion as not allowed (OpenFGA true_butnot_cycle)', () => {
    const m = compileModel(
      '01HZZZZZZZZZZZZZZZZZZZZZZY',
      transformer.transformDSLToJSONObject(`model
  schema 1.1
type user
type document
  relations
    define restricted: [user, document#viewer]
    define viewer: [user] but not restricted
`),
    );
    const index = indexOf([
      { user: 'user:jon', relation: 'viewer', object: 'document:1' },
      { user: 'document:1#viewer', relation: 'restricted', object: 'document:1' },
    ]);
    const jon = parseSubject('user:jon')!;
    expect(new Evaluation(m, index).check('document', '1', 'viewer', jon)).toBe(false);
    expect([...new Evaluation(m, index).listObjectIds('document', 'viewer', jon)]).toEqual([]);
  });

  it('answers on densely cyclic groups without exponential search (every group inside every other)', () => {
    const m = compileModel(
      '01HZZZZZZZZZZZZZZZZZZZZZZV',
      transformer.transformDSLToJSONObject('model\n  schema 1.1\ntype user\ntype group\n  relations\n    define member: [user, group#member]\n'),
    );
    const n = 22;
    const keys: TupleKeyJson[] = [{ object: `group:g${n - 1}`, relation: 'member', user: 'user:inside' }];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) keys.push({ object: `group:g${i}`, relation: 'member', user: `group:g${j}#member` });
    const index = indexOf(keys);
    const outsider = parseSubject('user:outside')!;
    const insider = parseSubject('user:inside')!;
    const ev = new Evaluation(m, index);
    expect(ev.check('group', 'g0', 'member', outsider)).toBe(false);
    expect(ev.check('group', 'g0', 'member', insider)).toBe(true);
    expect(new Evaluation(m, index).listObjectIds('group', 'member', insider).size).toBe(n);
    expect(new Evaluation(m, index).listObjectIds('group', 'member', outsider).size).toBe(0);
  });

  it('evaluates conditions over OpenFGA parameter types', () => {
    const T = (type_name: string, generic?: string) => ({ type_name, ...(generic ? { generic_types: [{ type_name: generic }] } : {}) });
    const grant = compileCondition('grant', {
      expression: 'current_time < grant_time + grant_duration',
      parameters: { current_time: T('TYPE_NAME_TIMESTAMP'), grant_time: T('TYPE_NAME_TIMESTAMP'), grant_duration: T('TYPE_NAME_DURATION') },
    });
    expect(grant.evaluate({ current_time: '2026-01-01T00:30:00Z', grant_time: '2026-01-01T00:00:00Z', grant_duration: '1h' })).toEqual({ ok: true, value: true });
    expect(grant.evaluate({ current_time: '2026-01-01T02:00:00Z', grant_time: '2026-01-01T00:00:00Z', grant_duration: '1h' })).toEqual({ ok: true, value: false });
    expect(grant.evaluate({ grant_time: '2026-01-01T00:00:00Z', grant_duration: '1h' })).toEqual({ ok: false, missing: ['current_time'] });

    const network = compileCondition('network', { expression: 'ip.in_cidr(cidr)', parameters: { ip: T('TYPE_NAME_IPADDRESS'), cidr: T('TYPE_NAME_STRING') } });
    expect(network.evaluate({ ip: '10.1.2.3', cidr: '10.0.0.0/8' })).toEqual({ ok: true, value: true });
    expect(network.evaluate({ ip: '192.168.1.1', cidr: '10.0.0.0/8' })).toEqual({ ok: true, value: false });
    expect(network.evaluate({ ip: '2001:db8::1', cidr: '2001:db8::/32' })).toEqual({ ok: true, value: true });
    expect(network.evaluate({ ip: 'not-an-ip', cidr: '10.0.0.0/8' })).toMatchObject({ ok: false });

    const region = compileCondition('region', {
      expression: 'region in allowed && limits[region] >= 2',
      parameters: { region: T('TYPE_NAME_STRING'), allowed: T('TYPE_NAME_LIST', 'TYPE_NAME_STRING'), limits: T('TYPE_NAME_MAP', 'TYPE_NAME_INT') },
    });
    expect(region.evaluate({ region: 'eu', allowed: ['eu', 'us'], limits: { eu: 3 } })).toEqual({ ok: true, value: true });
    expect(region.evaluate({ region: 'eu', allowed: ['eu'], limits: { eu: 1 } })).toEqual({ ok: true, value: false });
    expect(region.evaluate({ region: 'eu', allowed: 'eu', limits: {} })).toMatchObject({ ok: false });
  });

  it('rejects models OpenFGA rejects', () => {
    const bad = (dsl: string) => {
      try {
        compileModel('01HZZZZZZZZZZZZZZZZZZZZZZX', transformer.transformDSLToJSONObject(dsl));
      } catch (err) {
        return (err as FgaError).code;
      }
      return 'accepted';
    };
    expect(bad('model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define viewer: editor\n    define editor: viewer\n')).toBe('invalid_authorization_model');
    expect(bad('model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define viewer: [user with nope]\n')).toBe('invalid_authorization_model');
    expect(bad('model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define viewer: [user with c]\ncondition c(x: int) {\n  x + 1\n}\n')).toBe('invalid_authorization_model');
    expect(() => compileModel('01HZZZZZZZZZZZZZZZZZZZZZZW', { schema_version: '1.0', type_definitions: [{ type: 'user' }] })).toThrow(FgaError);
  });
});
