import { watchManagedPolicy } from '../lib/managed-policy';

/**
 * Keeps the worker's view of the organization's policy current (including a late first answer at browser start and
 * later pushes, `storage.onChanged` area `managed`) and reports values it had to read fail-closed. Capture decisions
 * read the policy afresh each time (lib/site-policy.ts), so nothing is cached here.
 */
export function watchOrganizationPolicy(log: (...args: unknown[]) => void = console.warn): () => void {
  return watchManagedPolicy((policy) => {
    for (const p of policy.problems) log(`Deputy: the organization's policy value for ${p.key} is invalid (${p.message}); its strictest reading applies.`);
  });
}
