/**
 * Planting attacker content the way an attacker would: through the providers' own write APIs, with a real account's
 * provider token. The attacker's foothold is another account of the emulated world (Bob's: anyone who can mail you,
 * post in a channel you read, invite you to a meeting or open an issue in a public repository you read). The
 * connectors are Deputy's own (official SDKs), pointed at the provider emulator.
 */
import { GitHubConnector } from '../../src/connectors/github';
import { Gmail, GoogleCalendar } from '../../src/connectors/google';
import { SlackConnector } from '../../src/connectors/slack';
import { randomUUID } from 'node:crypto';
import { eventIdFor } from '../../src/agent/tools/calendar';

export interface ProviderApis {
  googleApiUrl: string;
  slackApiUrl: string;
  githubApiUrl: string;
}

/** Provider tokens of the attacker's account, one per provider. */
export interface AttackerTokens {
  google: string;
  slack: string;
  github: string;
}

export class Planter {
  private readonly gmail: Gmail;
  private readonly calendar: GoogleCalendar;
  private readonly slack: SlackConnector;
  private readonly github: GitHubConnector;

  constructor(apis: ProviderApis, private readonly tokens: AttackerTokens) {
    this.gmail = new Gmail(apis.googleApiUrl);
    this.calendar = new GoogleCalendar(apis.googleApiUrl);
    this.slack = new SlackConnector(apis.slackApiUrl);
    this.github = new GitHubConnector(apis.githubApiUrl);
  }

  mail(to: string, subject: string, body: string) {
    return this.gmail.send(this.tokens.google, { to: [to], subject, body });
  }

  slackMessage(channelId: string, text: string) {
    return this.slack.post(this.tokens.slack, channelId, text);
  }

  /** A meeting that invites the victim, its description carrying the payload. */
  event(attendee: string, title: string, start: Date, description: string) {
    return this.calendar.createEvent(this.tokens.google, eventIdFor(randomUUID()), {
      title,
      start,
      end: new Date(start.getTime() + 30 * 60_000),
      attendees: [attendee],
      description,
    });
  }

  issue(repo: string, title: string, body: string) {
    return this.github.createIssue(this.tokens.github, repo, { title, body });
  }
}
