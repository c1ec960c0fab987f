/**
 * `npm run auth0:bootstrap [-- --apply] [-- --write-env FILE]`: configures a real Auth0 tenant from
 * `deploy/auth0.tenant.ts` through the Management API.
 *
 * Needs a Machine-to-Machine application authorized for the Management API (scopes: read/create/update:resource_servers,
 * read/create/update:clients, read:client_keys, read/create/update:client_grants, read/create/update:connections):
 *   AUTH0_DOMAIN, AUTH0_MGMT_CLIENT_ID, AUTH0_MGMT_CLIENT_SECRET
 *
 * It reads first and prints the plan. Nothing changes without `--apply` (or answering "y" when asked on a terminal).
 * Running it again changes nothing when the tenant matches the file. At the end it prints the environment for the
 * backend and the extension's managed policy; the backend's client secret is masked unless written to a file
 * (`--write-env .env.auth0`, mode 0600).
 */
import fs from 'node:fs';
import readline from 'node:readline/promises';
import tenantDefinition from '../deploy/auth0.tenant';
import { domainToBaseUrl } from '../backend/src/config';
import { ManagementApi } from './auth0/management-api';
import { formatPlan, reconcile } from './auth0/reconcile';
import type { TenantDefinition } from './auth0/spec';

export interface BootstrapOptions {
  env: Record<string, string | undefined>;
  apply: boolean;
  /** Asked when there are changes and `apply` is false; answer true to apply. */
  confirm?: (question: string) => Promise<boolean>;
  writeEnvFile?: string;
  definition?: TenantDefinition;
  fetch?: typeof fetch;
  print?: (line: string) => void;
}

export interface BootstrapResult {
  applied: boolean;
  changes: number;
  /** The environment, with the secret masked. */
  env: Record<string, string>;
  requests: Array<{ method: string; path: string }>;
}

export async function runBootstrap(o: BootstrapOptions): Promise<BootstrapResult> {
  const print = o.print ?? ((l: string) => console.log(l));
  const missing = ['AUTH0_DOMAIN', 'AUTH0_MGMT_CLIENT_ID', 'AUTH0_MGMT_CLIENT_SECRET'].filter((k) => !o.env[k]);
  if (missing.length) throw new Error(`Set ${missing.join(', ')} (a Machine-to-Machine application authorized for the Management API).`);
  const domain = o.env.AUTH0_DOMAIN!;
  const baseUrl = domainToBaseUrl(domain);
  const spec = (o.definition ?? tenantDefinition)({ domain, baseUrl, env: o.env });
  const api = new ManagementApi({ baseUrl, clientId: o.env.AUTH0_MGMT_CLIENT_ID!, clientSecret: o.env.AUTH0_MGMT_CLIENT_SECRET!, fetch: o.fetch });

  const plan = await reconcile(spec, api, { apply: false, env: o.env });
  const changes = plan.ops.filter((x) => x.action !== 'unchanged').length;
  print(`Plan for ${baseUrl}:`);
  for (const line of formatPlan(plan.ops)) print(`  ${line}`);

  let apply = o.apply;
  if (changes && !apply && o.confirm) apply = await o.confirm(`Apply ${changes} change(s) to ${domain}?`);
  let result = plan;
  if (changes && apply) {
    result = await reconcile(spec, api, { apply: true, env: o.env });
    print(`Applied ${changes} change(s).`);
  } else if (changes) {
    print('Nothing was changed. Run again with --apply to make these changes.');
  }

  const env: Record<string, string> = { ...spec.env };
  const secrets: Record<string, string> = {};
  for (const c of spec.clients) {
    const got = result.clients[c.key];
    env[c.env.clientId] = got?.clientId ?? '(created by --apply)';
    if (c.env.clientSecret) {
      if (got?.clientSecret) secrets[c.env.clientSecret] = got.clientSecret;
      env[c.env.clientSecret] = got?.clientSecret ? '******** (see --write-env)' : '(in the dashboard: Applications → Deputy backend)';
    }
  }
  print('');
  print('Backend environment:');
  for (const [k, v] of Object.entries(env)) print(`  ${k}=${v}`);
  print('');
  print("Extension managed policy (3rdparty values; see docs/policies/):");
  print(`  ${JSON.stringify({ auth0Domain: domain, auth0ClientId: env.AUTH0_EXTENSION_CLIENT_ID, auth0Audience: env.AUTH0_AUDIENCE })}`);
  if (o.writeEnvFile) {
    const body = Object.entries({ ...env, ...secrets }).map(([k, v]) => `${k}=${v}`).join('\n');
    fs.writeFileSync(o.writeEnvFile, `${body}\n`, { mode: 0o600 });
    print(`Wrote ${o.writeEnvFile} (mode 0600, contains the backend's client secret).`);
  }
  if (spec.manualSteps.length) {
    print('');
    print('Still to do by hand (not available through this tool):');
    for (const s of spec.manualSteps) print(`  - ${s}`);
  }
  return { applied: Boolean(changes && apply), changes, env, requests: api.requests };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--write-env');
  const interactive = process.stdin.isTTY && process.stdout.isTTY;
  runBootstrap({
    env: process.env,
    apply: args.includes('--apply'),
    writeEnvFile: at >= 0 ? args[at + 1] : undefined,
    confirm: interactive
      ? async (q) => {
          const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
          const answer = await rl.question(`${q} [y/N] `);
          rl.close();
          return /^y(es)?$/i.test(answer.trim());
        }
      : undefined,
  }).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
