/**
 * What the runtime hands the gate about where a run's content came from and where a call sends data: the user's own
 * turns (the only source of named destinations), whether untrusted content was already in the context when the run
 * started (page context, an earlier run's mail or Slack results), and the call's destinations the user did not name.
 */
import type { ToolCallRow } from '../store/runs';
import type { ContactStore } from '../store/contacts';
import { destinationKey, namedByUser, newDestinationMessage, unnamedDestinations } from './destinations';
import { type Destination, type DirectoryEntry, type HumanDescription, toBindingMessage, type ToolDeclaration, type ToolResult } from './tool-declaration';

export interface RunProvenance {
  /** The user's own turns in the model's history window (their words only; page context is kept apart). */
  userTurns: string[];
  /** Untrusted content was in the context before this run made any call (page context, earlier runs' results). */
  untrustedBefore: boolean;
}

export interface CallDestinations {
  /** Where the call sends data that the user neither named nor has as contacts. */
  unnamed: Destination[];
  /** The call's human description with any new destination put first, so the user's device shows it plainly. */
  describe(description: HumanDescription): HumanDescription;
}

/** Names for destinations from this run's trusted results (a channel list: C0LAUNCH is #launch). */
export function trustedDirectory(calls: ToolCallRow[], tools: ReadonlyMap<string, ToolDeclaration>): DirectoryEntry[] {
  return calls.flatMap((c) => {
    const decl = tools.get(c.name);
    const result = c.result as ToolResult | null;
    if (!decl?.directory || decl.resultTrust === 'untrusted' || c.status !== 'succeeded' || !result?.ok) return [];
    return decl.directory(result.data);
  });
}

/** Adds the new destinations to a description: first words of the binding message, and RAR details of their own. */
export function withNewDestinations(description: HumanDescription, unnamed: Destination[]): HumanDescription {
  if (!unnamed.length) return description;
  const byKind = new Map<string, string[]>();
  for (const d of unnamed) byKind.set(d.kind, [...(byKind.get(d.kind) ?? []), d.value]);
  return {
    summary: `${description.summary} (to ${unnamed.map((d) => d.value).join(', ')}, which you did not name yourself)`,
    bindingMessage: newDestinationMessage(unnamed, description.bindingMessage, toBindingMessage),
    authorizationDetails: [
      ...description.authorizationDetails,
      ...[...byKind].map(([kind, values]) => ({ type: 'new_destination', kind, value: values.join(', ') })),
    ],
  };
}

export async function callDestinations(
  decl: ToolDeclaration,
  args: Record<string, unknown>,
  ctx: { sub: string; calls: ToolCallRow[]; tools: ReadonlyMap<string, ToolDeclaration>; provenance: RunProvenance; contacts: ContactStore },
): Promise<CallDestinations> {
  const destinations = decl.sideEffect && decl.destinations ? decl.destinations(args) : [];
  if (!destinations.length) return { unnamed: [], describe: (d) => d };
  const named = namedByUser(ctx.provenance.userTurns, trustedDirectory(ctx.calls, ctx.tools));
  const pending = destinations.filter((d) => !named.has(destinationKey(d)));
  const contacts = pending.length ? await ctx.contacts.keys(ctx.sub) : new Set<string>();
  const unnamed = unnamedDestinations(destinations, named, contacts);
  return { unnamed, describe: (d) => withNewDestinations(d, unnamed) };
}
