/**
 * ABAC conditions: CEL expressions over typed parameters, evaluated with the tuple's own condition context merged
 * over the request context (the tuple's values win, as in OpenFGA).
 */
import { Environment, evaluate } from '@marcbachmann/cel-js';
import { FgaError, invalidModel } from './errors';

export interface ConditionParamType {
  type_name: string;
  generic_types?: ConditionParamType[];
}

export interface ConditionDefinition {
  name?: string;
  expression: string;
  parameters?: Record<string, ConditionParamType>;
}

export interface CompiledCondition {
  name: string;
  params: Map<string, ConditionParamType>;
  evaluate(context: Record<string, unknown>): ConditionResult;
}

export type ConditionResult = { ok: true; value: boolean } | { ok: false; missing: string[] } | { ok: false; error: string };

const SCALARS: Record<string, string> = {
  TYPE_NAME_ANY: 'dyn',
  TYPE_NAME_BOOL: 'bool',
  TYPE_NAME_STRING: 'string',
  TYPE_NAME_INT: 'int',
  TYPE_NAME_UINT: 'uint',
  TYPE_NAME_DOUBLE: 'double',
  TYPE_NAME_DURATION: 'google.protobuf.Duration',
  TYPE_NAME_TIMESTAMP: 'google.protobuf.Timestamp',
  TYPE_NAME_IPADDRESS: 'ipaddress',
};

function celType(t: ConditionParamType, where: string): string {
  if (!t || typeof t !== 'object' || typeof t.type_name !== 'string') throw invalidModel(`${where}: a parameter needs a type_name`);
  if (t.type_name === 'TYPE_NAME_LIST') {
    const g = Array.isArray(t.generic_types) ? t.generic_types[0] : undefined;
    if (!g) throw invalidModel(`${where}: a list parameter needs one generic type`);
    return `list<${celType(g, where)}>`;
  }
  if (t.type_name === 'TYPE_NAME_MAP') {
    const g = Array.isArray(t.generic_types) ? t.generic_types[0] : undefined;
    if (!g) throw invalidModel(`${where}: a map parameter needs one generic type`);
    return `map<string, ${celType(g, where)}>`;
  }
  const s = SCALARS[t.type_name];
  if (!s) throw invalidModel(`${where}: unknown parameter type '${t.type_name}'`);
  return s;
}

/** An IP address value with CIDR membership, OpenFGA's `ipaddress` extension type. */
export class IpAddress {
  constructor(
    readonly bits: bigint,
    readonly width: 32 | 128,
    readonly text: string,
  ) {}
  static parse(text: string): IpAddress {
    const v4 = parseIpv4(text);
    if (v4 !== undefined) return new IpAddress(v4, 32, text);
    const v6 = parseIpv6(text);
    if (v6 !== undefined) return new IpAddress(v6, 128, text);
    throw new Error(`'${text}' is not an IP address`);
  }
  inCidr(cidr: string): boolean {
    const [addr, lenText] = cidr.split('/');
    const net = IpAddress.parse(addr);
    const len = lenText === undefined ? net.width : Number(lenText);
    if (net.width !== this.width || !Number.isInteger(len) || len < 0 || len > net.width) return false;
    const shift = BigInt(this.width - len);
    return this.bits >> shift === net.bits >> shift;
  }
}

function parseIpv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

function parseIpv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(s)) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function baseEnvironment() {
  return new Environment({ unlistedVariablesAreDyn: false, homogeneousAggregateLiterals: false })
    .registerType('ipaddress', IpAddress)
    .registerFunction('ipaddress(string): ipaddress', (s: string) => IpAddress.parse(s))
    .registerFunction('ipaddress.in_cidr(string): bool', (ip: IpAddress, cidr: string) => ip.inCidr(cidr));
}

/** Converts a JSON context value to the CEL value of the parameter's type (ints become bigints, etc.). */
function convert(value: unknown, t: ConditionParamType): unknown {
  switch (t.type_name) {
    case 'TYPE_NAME_INT':
      if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
      if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
      throw new Error('expected an int');
    case 'TYPE_NAME_UINT':
      if ((typeof value === 'number' && Number.isInteger(value) && value >= 0) || (typeof value === 'string' && /^\d+$/.test(value))) {
        return evaluate('uint(x)', { x: BigInt(value) });
      }
      throw new Error('expected a uint');
    case 'TYPE_NAME_DOUBLE':
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      throw new Error('expected a double');
    case 'TYPE_NAME_BOOL':
      if (typeof value === 'boolean') return value;
      throw new Error('expected a bool');
    case 'TYPE_NAME_STRING':
      if (typeof value === 'string') return value;
      throw new Error('expected a string');
    case 'TYPE_NAME_TIMESTAMP':
      if (typeof value === 'string') return evaluate('timestamp(x)', { x: value });
      throw new Error('expected an RFC 3339 timestamp string');
    case 'TYPE_NAME_DURATION':
      if (typeof value === 'string') return evaluate('duration(x)', { x: value });
      throw new Error('expected a duration string such as "1h30m"');
    case 'TYPE_NAME_IPADDRESS':
      if (typeof value === 'string') return IpAddress.parse(value);
      throw new Error('expected an IP address string');
    case 'TYPE_NAME_LIST': {
      if (!Array.isArray(value)) throw new Error('expected a list');
      const [g] = t.generic_types ?? [];
      return value.map((v) => convert(v, g));
    }
    case 'TYPE_NAME_MAP': {
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('expected a map');
      const [g] = t.generic_types ?? [];
      return new Map(Object.entries(value).map(([k, v]) => [k, convert(v, g)]));
    }
    default:
      return value;
  }
}

export function compileCondition(name: string, def: ConditionDefinition): CompiledCondition {
  if (typeof def.expression !== 'string' || !def.expression.trim()) throw invalidModel(`condition '${name}' needs an expression`);
  const rawParams = def.parameters ?? {};
  if (typeof rawParams !== 'object' || Array.isArray(rawParams)) throw invalidModel(`condition '${name}': parameters must be an object`);
  const params = new Map(Object.entries(rawParams));
  const env = baseEnvironment();
  let program: (ctx: Record<string, unknown>) => unknown;
  for (const [p, t] of params) {
    const type = celType(t, `condition '${name}' parameter '${p}'`);
    try {
      env.registerVariable(p, type);
    } catch (err) {
      throw invalidModel(`condition '${name}': invalid parameter '${p}': ${(err as Error).message}`);
    }
  }
  try {
    const parsed = env.parse(def.expression);
    const checked = parsed.check();
    if (!checked.valid) throw checked.error ?? new Error('type check failed');
    if (checked.type !== 'bool' && checked.type !== 'dyn') throw new Error(`the expression must evaluate to bool, not ${checked.type}`);
    program = (ctx) => parsed(ctx);
  } catch (err) {
    throw invalidModel(`failed to compile the expression of condition '${name}': ${(err as Error).message}`);
  }
  return {
    name,
    params,
    evaluate(context) {
      // As OpenFGA: every declared parameter must be present, even one the expression would not need.
      const missing = [...params.keys()].filter((p) => !Object.hasOwn(context, p) || context[p] === undefined || context[p] === null);
      if (missing.length) return { ok: false, missing };
      const values: Record<string, unknown> = {};
      for (const [p, t] of params) {
        try {
          values[p] = convert(context[p], t);
        } catch (err) {
          return { ok: false, error: `failed to convert context parameter '${p}': ${(err as Error).message}` };
        }
      }
      try {
        const out = program(values);
        return typeof out === 'boolean' ? { ok: true, value: out } : { ok: false, error: `condition '${name}' did not evaluate to a bool` };
      } catch (err) {
        return { ok: false, error: `failed to evaluate condition '${name}': ${(err as Error).message}` };
      }
    },
  };
}

export function conditionError(name: string, result: Exclude<ConditionResult, { ok: true }>): FgaError {
  const detail = 'missing' in result ? `context is missing parameters '[${result.missing.join(' ')}]'` : result.error;
  return new FgaError(400, 'validation_error', `failed to evaluate relationship condition '${name}': ${detail}`);
}
