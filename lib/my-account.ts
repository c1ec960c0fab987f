/**
 * Auth0 My Account API, connected-accounts part: the wire shapes (zod, shared by the extension that calls the API
 * and the IdP emulator that serves it). Source: shared/docs/auth0-wire.md.
 */
import { z } from 'zod';

export const ConnectedAccount = z.object({
  id: z.string().min(1),
  connection: z.string().min(1),
  access_type: z.string().optional(),
  scopes: z.array(z.string()).default([]),
  created_at: z.string(),
  expires_at: z.string().optional(),
});
export type ConnectedAccount = z.infer<typeof ConnectedAccount>;

export const ConnectedAccountList = z.object({ accounts: z.array(ConnectedAccount), next: z.string().optional() });

export const AvailableConnection = z.object({ name: z.string(), strategy: z.string().optional(), scopes: z.array(z.string()).optional() });
export const AvailableConnectionList = z.object({ connections: z.array(AvailableConnection) });
export type AvailableConnection = z.infer<typeof AvailableConnection>;

export const ConnectResponse = z.object({
  connect_uri: z.url(),
  auth_session: z.string().min(1),
  connect_params: z.object({ ticket: z.string().min(1) }),
  expires_in: z.number().optional(),
});

/** RFC 7807 errors of the My Account API. */
export const MyAccountProblem = z.object({ type: z.string().optional(), status: z.number().optional(), title: z.string().optional(), detail: z.string().optional() });
