/**
 * The user's contacts for the destination rule: every e-mail address, Slack channel and GitHub repository the user
 * sent data to before, on their own word ('named') or after approving that new destination ('approved'). Nothing
 * the model, a page or a tool result says ever adds one.
 */
import type { Kysely } from 'kysely';
import { destinationKey } from '../agent/destinations';
import type { Destination } from '../agent/tool-declaration';
import type { Database } from './schema';

export class ContactStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** The user's contacts as destination keys (`email:bob@example.com`). */
  async keys(sub: string): Promise<Set<string>> {
    const rows = await this.db.selectFrom('contacts').select(['kind', 'value']).where('user_sub', '=', sub).execute();
    return new Set(rows.map((r) => destinationKey(r)));
  }

  async add(sub: string, destinations: Destination[], source: 'named' | 'approved'): Promise<void> {
    if (!destinations.length) return;
    const values = destinations.map((d) => {
      const [kind, ...rest] = destinationKey(d).split(':');
      return { user_sub: sub, kind: kind as Destination['kind'], value: rest.join(':'), source };
    });
    await this.db.insertInto('contacts').values(values).onConflict((oc) => oc.columns(['user_sub', 'kind', 'value']).doNothing()).execute();
  }
}
