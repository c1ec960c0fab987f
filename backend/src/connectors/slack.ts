/** Slack through the official `@slack/web-api` client (user token; Slack answers errors as `ok: false`). */
import { ErrorCode, LogLevel, WebClient } from '@slack/web-api';
import { ProviderError } from './provider-call';

const UNAUTHORIZED = new Set(['not_authed', 'invalid_auth', 'token_expired', 'token_revoked', 'account_inactive']);

async function slack<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const e = err as { code?: string; data?: { error?: string } };
    if (e.code === ErrorCode.PlatformError) {
      const error = e.data?.error ?? '';
      if (UNAUTHORIZED.has(error)) throw new ProviderError('unauthorized');
      if (error === 'missing_scope') throw new ProviderError('insufficient_scope');
      if (error === 'channel_not_found' || error === 'not_in_channel') throw new ProviderError('not_found');
      throw new ProviderError('invalid', error);
    }
    if (e.code === ErrorCode.RateLimitedError) throw new ProviderError('rate_limited');
    throw new ProviderError('unreachable');
  }
}

export class SlackConnector {
  constructor(private readonly apiUrl: string) {}

  private client(token: string) {
    return new WebClient(token, { slackApiUrl: this.apiUrl, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR, timeout: 15_000 });
  }

  async listChannels(token: string) {
    const client = this.client(token);
    const channels: Array<{ id: string; name: string; topic: string; purpose: string; isMember: boolean; members: number }> = [];
    let cursor: string | undefined;
    do {
      const page = await slack(() => client.conversations.list({ types: 'public_channel', exclude_archived: true, limit: 200, cursor }));
      for (const c of page.channels ?? []) {
        channels.push({ id: c.id ?? '', name: c.name ?? '', topic: c.topic?.value ?? '', purpose: c.purpose?.value ?? '', isMember: Boolean(c.is_member), members: c.num_members ?? 0 });
      }
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor && channels.length < 200);
    return channels;
  }

  async readChannel(token: string, channel: string, limit: number) {
    const client = this.client(token);
    const page = await slack(() => client.conversations.history({ channel, limit }));
    const messages = (page.messages ?? []).map((m) => {
      const profile = (m as { user_profile?: { real_name?: string; display_name?: string } }).user_profile;
      const name = profile?.real_name || profile?.display_name;
      return { ts: m.ts ?? '', user: m.user ?? '', ...(name ? { userName: name } : {}), text: m.text ?? '', time: m.ts ? new Date(Number(m.ts) * 1000).toISOString() : '' };
    });
    return { channel, messages: messages.reverse() };
  }

  async post(token: string, channel: string, text: string) {
    const client = this.client(token);
    const res = await slack(() => client.chat.postMessage({ channel, text }));
    return { channel: res.channel ?? channel, ts: res.ts ?? '' };
  }
}
