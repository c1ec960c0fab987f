/**
 * A tool is declared once, here-shaped: what the model sees (name, description, JSON schema from zod), what the
 * policy gate needs (risk tier, scopes, connection), how a concrete call is shown to a human, and the executor.
 */
import { z } from 'zod';
import type { Citation } from '../../../lib/protocol';

export type RiskTier = 'read' | 'write' | 'high' | 'critical';

/** RFC 9396 authorization details: a registered type plus the exact arguments of the call. */
export interface AuthorizationDetail {
  type: string;
  [field: string]: unknown;
}

export type DestinationKind = 'email' | 'slack_channel' | 'github_repo';

/** Somewhere a call sends data: an e-mail address, a Slack channel id, a GitHub repository (owner/name). */
export interface Destination {
  kind: DestinationKind;
  value: string;
}

/** A destination and the names a user may call it by ("C0LAUNCH" is "#launch"). */
export interface DirectoryEntry extends Destination {
  names: string[];
}

export interface HumanDescription {
  /** At most 64 characters of Auth0's CIBA binding-message charset, built only from validated arguments. */
  bindingMessage: string;
  authorizationDetails: AuthorizationDetail[];
  /** One line for the side panel's tool-activity row. */
  summary: string;
}

export interface ToolContext {
  sub: string;
  runId: string;
  toolCallId: string;
  /** Stable per tool call; side-effecting executors pass it to the API so a replay never acts twice. */
  idempotencyKey: string;
  /** A token for the tool's declared `resource`, obtained by the backend for this user. Never shown to the model. */
  getResourceToken(): Promise<string>;
  /**
   * A third-party access token for the tool's declared `connection`, from a Token Vault exchange for this user.
   * Pass `fresh: true` after the provider refused the last one (401): the cached token is dropped and exchanged
   * again. Never shown to the model, never logged.
   */
  getConnectionToken(options?: { fresh?: boolean }): Promise<string>;
  signal?: AbortSignal;
}

/** What the model is shown as the tool's result: data only, never credentials. */
export type ToolResult = { ok: true; data: unknown } | { ok: false; error: { code: string; message: string } };

export interface ToolDeclaration<I extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  input: I;
  tier: RiskTier;
  /** Scopes the user's token for Deputy's API must carry. */
  requiredScopes: string[];
  /** A first-party resource server the executor calls, and the scopes it needs there. */
  resource?: { audience: string; scopes: string[] };
  /** A third-party connection (Token Vault) and the provider scopes it needs. */
  connection?: { name: string; scopes: string[] };
  /** Does running it change anything outside Deputy? Read-only tools are false. */
  sideEffect: boolean;
  describe(args: z.infer<I>): HumanDescription;
  /** A short human line about a successful result ("3 projects"); the raw result goes only to the model. */
  outcome?(data: unknown): string;
  /** Are results data the user's organisation controls ('trusted'), or content anyone could have written? */
  resultTrust?: 'trusted' | 'untrusted';
  /** Sources a successful result contributes to the answer (knowledge-base documents), stored with the final message. */
  citations?(data: unknown): Citation[];
  /**
   * Where a call sends data (recipients, a channel, a repository): the gate lets data go only to destinations the user
   * named in their own words or already has as contacts, unless the user approves the new one explicitly.
   */
  destinations?(args: z.infer<I>): Destination[];
  /** Trusted results that name destinations (a channel list: id and name), so "#launch" typed by the user matches an id. */
  directory?(data: unknown): DirectoryEntry[];
  execute(args: z.infer<I>, ctx: ToolContext): Promise<ToolResult>;
}

export function defineTool<I extends z.ZodType>(decl: ToolDeclaration<I>): ToolDeclaration<I> {
  return decl;
}

const BINDING_CHARSET = /[^A-Za-z0-9 +\-_.,:#]/g;
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;

/**
 * Auth0's CIBA rule: at most 64 characters of letters, digits, spaces and + - _ . , : #. Strips bidi and zero-width
 * characters first (D7), spells `@` as "at" (addresses stay readable), drops anything outside the set, trims to length.
 */
export function toBindingMessage(text: string): string {
  const cleaned = text.normalize('NFKC').replace(INVISIBLE, '').replace(/@/g, ' at ').replace(BINDING_CHARSET, ' ').replace(/\s+/g, ' ').trim();
  return cleaned.length <= 64 ? cleaned : `${cleaned.slice(0, 63).trimEnd()}.`.slice(0, 64);
}

/** The tools as the model sees them: OpenAI function tools whose parameters are the zod schemas as JSON schema. */
export function toOpenAiTools(decls: readonly ToolDeclaration[]) {
  return decls.map((t) => ({
    type: 'function' as const,
    function: { name: t.name, description: t.description, parameters: z.toJSONSchema(t.input) as Record<string, unknown> },
  }));
}
