/**
 * The backend's only way to FGA: `@openfga/sdk`'s `OpenFgaClient`, so the same calls work against OpenFGA, Auth0 FGA
 * and our emulator. Every call has a deadline; anything but an answer in time (unreachable, slow, 5xx, bad
 * credentials) is an `FgaUnavailableError`, which callers turn into "no access" (fail closed, F2).
 */
import { ConsistencyPreference, CredentialsMethod, OpenFgaClient, type TupleKey, WriteRequestDeletesOnMissing, WriteRequestWritesOnDuplicate } from '@openfga/sdk';
import type { FgaSettings } from '../config';

export { ConsistencyPreference };

export class FgaUnavailableError extends Error {
  constructor(readonly operation: string, cause?: unknown) {
    super(`FGA did not answer ${operation}${cause instanceof Error ? ` (${cause.message.slice(0, 200)})` : ''}`);
    this.name = 'FgaUnavailableError';
  }
}

export interface Tuple {
  user: string;
  relation: string;
  object: string;
}

export interface CheckItem {
  user: string;
  relation: string;
  object: string;
}

/** `user:<sub>`: a sub may hold characters FGA ids cannot (`:`, `#`, spaces), so those are percent-encoded. */
export const fgaUser = (sub: string) => `user:${fgaId(sub)}`;
export const fgaId = (id: string) => id.replace(/[%:#\s]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);

export interface FgaClientOptions extends FgaSettings {
  apiUrl: string;
  storeId: string;
  modelId?: string;
}

export class FgaClient {
  readonly sdk: OpenFgaClient;
  private readonly timeoutMs: number;

  constructor(readonly options: FgaClientOptions) {
    this.timeoutMs = options.timeoutMs;
    this.sdk = new OpenFgaClient({
      apiUrl: options.apiUrl,
      storeId: options.storeId,
      authorizationModelId: options.modelId,
      credentials: credentialsFor(options),
      // One retry at most: a slow FGA must not hold a request past our own deadline.
      retryParams: { maxRetry: 1, minWaitInMs: 50 },
      baseOptions: { timeout: options.timeoutMs },
    });
  }

  get storeId(): string {
    return this.options.storeId;
  }

  async write(writes: Tuple[], deletes: Tuple[] = []): Promise<void> {
    if (!writes.length && !deletes.length) return;
    await this.call('write', () =>
      this.sdk.write(
        { writes: writes.length ? (writes as TupleKey[]) : undefined, deletes: deletes.length ? deletes : undefined },
        // Idempotent: granting twice or revoking what is not there is not an error.
        { conflict: { onDuplicateWrites: WriteRequestWritesOnDuplicate.Ignore, onMissingDeletes: WriteRequestDeletesOnMissing.Ignore } },
      ),
    );
  }

  async check(item: CheckItem, consistency = ConsistencyPreference.HigherConsistency): Promise<boolean> {
    const res = await this.call('check', () => this.sdk.check(item, { consistency }));
    return res.allowed === true;
  }

  /** Which of `items` are allowed, in order. An item FGA reports an error for counts as not allowed. */
  async batchCheck(items: CheckItem[], consistency = ConsistencyPreference.HigherConsistency): Promise<boolean[]> {
    if (!items.length) return [];
    const checks = items.map((it, i) => ({ ...it, correlationId: `c${i}` }));
    const res = await this.call('batch-check', () => this.sdk.batchCheck({ checks }, { consistency, maxBatchSize: 50 }));
    const allowed = new Map(res.result.map((r) => [r.correlationId, r.allowed === true && !r.error]));
    return checks.map((c) => allowed.get(c.correlationId) ?? false);
  }

  /** Object ids (without the type) of `type` on which `user` has `relation`. */
  async listObjects(user: string, relation: string, type: string, consistency = ConsistencyPreference.MinimizeLatency): Promise<string[]> {
    const res = await this.call('list-objects', () => this.sdk.listObjects({ user, relation, type }, { consistency }));
    const prefix = `${type}:`;
    return res.objects.filter((o) => o.startsWith(prefix)).map((o) => o.slice(prefix.length));
  }

  /** Every tuple on `object` (all pages). */
  async readObject(object: string): Promise<Tuple[]> {
    const out: Tuple[] = [];
    let continuationToken: string | undefined;
    do {
      const res = await this.call('read', () => this.sdk.read({ object }, { pageSize: 100, continuationToken, consistency: ConsistencyPreference.HigherConsistency }));
      for (const t of res.tuples) out.push({ user: t.key.user, relation: t.key.relation, object: t.key.object });
      continuationToken = res.continuation_token || undefined;
    } while (continuationToken);
    return out;
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FgaUnavailableError(operation, new Error(`no answer within ${this.timeoutMs} ms`))), this.timeoutMs);
    });
    try {
      return await Promise.race([fn(), deadline]);
    } catch (err) {
      throw err instanceof FgaUnavailableError ? err : new FgaUnavailableError(operation, err);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** SDK credentials for these settings: client credentials (Auth0 FGA), an API token, or none (a local OpenFGA). */
export function credentialsFor(o: FgaSettings) {
  if (o.clientCredentials) {
    return { method: CredentialsMethod.ClientCredentials, config: { ...o.clientCredentials } } as const;
  }
  if (o.apiToken) return { method: CredentialsMethod.ApiToken, config: { token: o.apiToken } } as const;
  return undefined;
}
