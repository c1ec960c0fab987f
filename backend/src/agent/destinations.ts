/**
 * The destination rule: data may only go where the user said it should. A destination (a recipient, a Slack channel,
 * a GitHub repository) is "named" when the user typed it in their own words in this conversation's user turns, or
 * typed a name the user's own workspace resolves to it (trusted directory results: "#launch" is channel C0LAUNCH), or
 * when it is already one of the user's contacts (somewhere the user sent data to before, on their own word or with
 * their explicit approval). Page context, mails, Slack messages, issues, documents and any other tool result never
 * name a destination. Pure functions; the runtime gathers the inputs and the gate decides.
 */
import type { Destination, DestinationKind, DirectoryEntry } from './tool-declaration';

/** The lookbehind starts a match only where a local part starts: without it a long run of letters cost O(n²). */
const EMAIL = /(?<![\w.+-])[\w.+-]{1,64}@[\w-]+(?:\.[\w-]+)+/g;
/** `owner/repo` standing alone: not two segments of some other URL's path (`evil.example/attacker/repo`). */
const REPO = /(?<![\w./:@-])[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}\b(?!\/)/g;
const CHANNEL_ID = /\b[CG][A-Z0-9]{2,30}\b/g;
const GITHUB_URL = /\bgithub\.com\/([A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100})/gi;

/** One spelling per destination: addresses and repositories are case-insensitive, Slack ids upper-case. */
function normalized(d: Destination): Destination {
  return { kind: d.kind, value: d.kind === 'slack_channel' ? d.value.trim().toUpperCase() : d.value.trim().toLowerCase() };
}

export function destinationKey(d: Destination): string {
  const { kind, value } = normalized(d);
  return `${kind}:${value}`;
}

/**
 * The user's own words in a message: material they pasted (fenced code, `>` quotes, tagged blocks like
 * `<page>…</page>`) is left out, because an address inside a pasted mail is the mail's, not the user's instruction.
 */
export function ownWords(message: string): string {
  return message
    .replace(/```[\s\S]*?(```|$)/g, ' ')
    .replace(/<([A-Za-z][\w-]*)(\s[^<>]*)?>[\s\S]*?<\/\1>/g, ' ')
    .split('\n')
    .filter((l) => !/^\s*>/.test(l))
    .join('\n');
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The destinations the user's own turns name, literally or by a name the trusted directory resolves. */
export function namedByUser(userTurns: string[], directory: DirectoryEntry[] = []): Set<string> {
  const named = new Set<string>();
  const add = (kind: DestinationKind, value: string) => named.add(destinationKey({ kind, value }));
  for (const turn of userTurns) {
    const text = ownWords(turn);
    for (const m of text.matchAll(EMAIL)) add('email', m[0]);
    for (const m of text.matchAll(REPO)) if (!m[0].includes('@')) add('github_repo', m[0]);
    for (const m of text.matchAll(GITHUB_URL)) add('github_repo', m[1]!.replace(/\.git$/, ''));
    for (const m of text.matchAll(CHANNEL_ID)) add('slack_channel', m[0]);
    for (const entry of directory) {
      const hit = entry.names.some((n) => {
        const name = n.trim();
        if (name.replace(/^#/, '').length < 3) return false;
        // A name counts only as a whole word: "launch" in "launch-plan" or "relaunch" is not the channel #launch.
        return new RegExp(`(^|[^\\w#/-])${escapeRegExp(name)}(?![\\w/-])`, 'i').test(text);
      });
      if (hit) add(entry.kind, entry.value);
    }
  }
  return named;
}

/**
 * The destinations of a call that the user neither named nor has as contacts, in the call's order, without
 * duplicates. Empty: the call sends data only where the user said (or sends nothing).
 */
export function unnamedDestinations(destinations: Destination[], named: ReadonlySet<string>, contacts: ReadonlySet<string>): Destination[] {
  const seen = new Set<string>();
  const out: Destination[] = [];
  for (const d of destinations) {
    const key = destinationKey(d);
    if (seen.has(key) || named.has(key) || contacts.has(key)) continue;
    seen.add(key);
    out.push(normalized(d));
  }
  return out;
}

const KIND_WORD: Record<DestinationKind, string> = { email: 'recipient', slack_channel: 'channel', github_repo: 'repo' };

/**
 * The approval's binding message with the new destination first, so the device shows it before anything else:
 * "NEW recipient: Send mail to eve at evil.example: Hi" when the message already names it, else
 * "NEW recipient eve at evil.example - Post to Slack …".
 */
export function newDestinationMessage(unnamed: Destination[], bindingMessage: string, format: (s: string) => string): string {
  if (!unnamed.length) return bindingMessage;
  const first = unnamed[0]!;
  const word = `NEW ${KIND_WORD[first.kind]}${unnamed.length > 1 ? 's' : ''}`;
  const shown = format(first.value);
  if (unnamed.length === 1 && bindingMessage.toLowerCase().includes(shown.toLowerCase())) return format(`${word}: ${bindingMessage}`);
  return format(`${word} ${first.value}${unnamed.length > 1 ? ` +${unnamed.length - 1}` : ''} - ${bindingMessage}`);
}
