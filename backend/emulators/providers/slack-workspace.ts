/**
 * The emulated Slack workspace: its members, public channels (with membership) and messages. Seeded messages are
 * rebuilt at every start; messages posted through the API are kept in the state.
 */
import type { ProviderState } from './state';

export interface SlackUser {
  id: string;
  name: string;
  realName: string;
  displayName: string;
  email?: string;
}

export interface SlackChannel {
  id: string;
  name: string;
  /** Seconds since the epoch. */
  created: number;
  creator: string;
  isArchived: boolean;
  topic: string;
  purpose: string;
  members: string[];
}

export interface SlackMessage {
  channel: string;
  user: string;
  text: string;
  ts: string;
}

/** The "ts" of a message: seconds with microseconds, unique and increasing within the workspace. */
export const slackTs = (ms: number, seq = 0) => `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000 + seq).padStart(6, '0')}`;

export class SlackWorkspace {
  private readonly messages: SlackMessage[];
  private lastTs: number;

  constructor(
    readonly users: SlackUser[],
    readonly channels: SlackChannel[],
    seed: SlackMessage[],
    private readonly state: ProviderState,
  ) {
    this.messages = [...seed, ...(state.added.slackMessages as SlackMessage[])];
    this.lastTs = Math.max(0, ...this.messages.map((m) => Number(m.ts)));
  }

  user(id: string) {
    return this.users.find((u) => u.id === id);
  }

  userByEmail(email: string) {
    return this.users.find((u) => u.email?.toLowerCase() === email.toLowerCase());
  }

  /** By id, `#name` or name. */
  channel(ref: string | undefined) {
    if (!ref) return undefined;
    const name = ref.replace(/^#/, '').toLowerCase();
    return this.channels.find((ch) => ch.id === ref || ch.name === name);
  }

  /** Newest first. */
  history(channelId: string) {
    return this.messages.filter((m) => m.channel === channelId).sort((a, b) => Number(b.ts) - Number(a.ts));
  }

  post(channel: SlackChannel, user: SlackUser, text: string): SlackMessage {
    const now = Date.now() / 1000;
    const ts = Math.max(now, this.lastTs + 0.000001);
    this.lastTs = ts;
    const message = { channel: channel.id, user: user.id, text, ts: ts.toFixed(6) };
    this.messages.push(message);
    this.state.added.slackMessages.push(message);
    return message;
  }
}

