/**
 * Role-based access control, as Auth0 does it with "Enable RBAC" and "Add Permissions in the Access Token":
 * a token's API scopes are only those requested that the user's roles grant, per API.
 */
import { DEFAULT_API_AUDIENCE, DEFAULT_API_SCOPES, PROJECTS_AUDIENCE, PROJECTS_SCOPES } from '../../../lib/defaults';

const all = [...DEFAULT_API_SCOPES, ...PROJECTS_SCOPES];

/** role → audience → permissions. */
const ROLE_PERMISSIONS: Record<string, Record<string, readonly string[]>> = {
  admin: { [DEFAULT_API_AUDIENCE]: all, [PROJECTS_AUDIENCE]: PROJECTS_SCOPES },
  member: {
    [DEFAULT_API_AUDIENCE]: ['chat', 'read:projects', 'write:projects'],
    [PROJECTS_AUDIENCE]: ['read:projects', 'write:projects'],
  },
};

export function permissionsFor(roles: readonly string[], audience: string): Set<string> {
  const out = new Set<string>();
  for (const role of roles) for (const p of ROLE_PERMISSIONS[role]?.[audience] ?? []) out.add(p);
  return out;
}
