/**
 * Slack through the official `@slack/web-api` client with the user's token. Slack answers refusals as HTTP 200 with
 * `ok: false` and an error code; the client throws those as platform errors, mapped here to provider error kinds.
 */
import { ErrorCode, LogLevel, WebClient } from '@slack/web-api';
import { kindOfStatus, ProviderError, type ProviderErrorKind } from './provider-call';

const TIMEOUT_MS = 15_000;
const MAX_CHANNELS = 200;

const PLATFORM_ERRORS: Record<string, ProviderErrorKind> = {
  not_authed: 'unauthorized',
  invalid_auth: 'unauthorized',
  token_expired: 'unauthorized',
  token_revoked: 'unauthorized',
  account_inactive: 'unauthorized',
  missing_scope: 'insufficient_scope',
  channel_not_found: 'not_found',
  restricted_action: 'forbidden',
  no_permission: 'forbidden',
  ratelimited: 'rate_limited',
};

async function slack<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const e = err as { code?: string; data?: { error?: unknown }; statusCode?: number };
    if (e.code === ErrorCode.PlatformError) {
      const error = typeof e.data?.error === 'string' ? e.data.error : '';
      throw new ProviderError(PLATFORM_ERRORS[error] ?? 'invalid', error);
    }
    if (e.code === ErrorCode.RateLimitedError) throw new ProviderError('rate_limited');
    if (e.code === ErrorCode.HTTPError) throw new ProviderError(kindOfStatus(e.statusCode));
    throw new ProviderError('unreachable');
  }
}

export interface SlackChannel {
  id: string;
  name: string;
  topic: string;
  purpose: string;
  isMember: boolean;
  members: number;
}

export interface SlackMessage {
  ts: string;
  user: string;
  userName?: string;
  text: string;
  time: string;
}

export class SlackConnector {
  constructor(private readonly apiUrl: string) {}

  /** One client per token. A rate-limited call fails at once instead of the client sleeping and retrying. */
  private client(token: string) {
    return new WebClient(token, {
      slackApiUrl: this.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: TIMEOUT_MS,
      logLevel: LogLevel.ERROR,
    });
  }

  /** Public, unarchived channels, following cursors up to 200. */
  async listChannels(token: string): Promise<SlackChannel[]> {
    const client = this.client(token);
    const channels: SlackChannel[] = [];
    let cursor: string | undefined;
    do {
      const page = await slack(() => client.conversations.list({ types: 'public_channel', exclude_archived: true, limit: MAX_CHANNELS, cursor }));
      for (const c of page.channels ?? []) {
        channels.push({
          id: c.id ?? '',
          name: c.name ?? '',
          topic: c.topic?.value ?? '',
          purpose: c.purpose?.value ?? '',
          isMember: Boolean(c.is_member),
          members: c.num_members ?? 0,
        });
      }
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor && channels.length < MAX_CHANNELS);
    return channels.slice(0, MAX_CHANNELS);
  }

  /** The latest `limit` messages, oldest first. */
  async readChannel(token: string, channel: string, limit: number): Promise<{ channel: string; messages: SlackMessage[] }> {
    const page = await slack(() => this.client(token).conversations.history({ channel, limit }));
    const messages = (page.messages ?? []).map((m): SlackMessage => {
      // Slack adds `user_profile` to many messages; resolving every other author would need `users:read`.
      const profile = (m as { user_profile?: { real_name?: string; display_name?: string } }).user_profile;
      const userName = profile?.real_name || profile?.display_name;
      return {
        ts: m.ts ?? '',
        user: m.user ?? m.bot_id ?? '',
        ...(userName ? { userName } : {}),
        text: m.text ?? '',
        time: m.ts ? new Date(Number(m.ts) * 1000).toISOString() : '',
      };
    });
    return { channel, messages: messages.reverse() };
  }

  async post(token: string, channel: string, text: string): Promise<{ channel: string; ts: string }> {
    const res = await slack(() => this.client(token).chat.postMessage({ channel, text }));
    return { channel: res.channel ?? channel, ts: res.ts ?? '' };
  }
}
