/**
 * Tools over the user's connected accounts (Google Calendar and Gmail, Slack, GitHub). Each reaches its provider only
 * with the Token Vault token the runtime obtains for the user (`ctx.getConnectionToken()`); the model sees data only.
 */
import type { ToolDeclaration } from '../tool-declaration';
import { calendarTools } from './calendar';
import { githubTools } from './github';
import { gmailTools } from './gmail';
import { slackTools } from './slack';

export { calendarTools, githubTools, gmailTools, slackTools };

/** API bases: Google's root URL ends with '/', Slack's method base ends with '/', GitHub's has none. */
export interface ProviderUrls {
  googleApiUrl: string;
  slackApiUrl: string;
  githubApiUrl: string;
}

export function thirdPartyTools(urls: ProviderUrls): ToolDeclaration[] {
  return [...calendarTools(urls.googleApiUrl), ...gmailTools(urls.googleApiUrl), ...slackTools(urls.slackApiUrl), ...githubTools(urls.githubApiUrl)];
}
