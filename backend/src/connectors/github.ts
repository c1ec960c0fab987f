/** GitHub through the official `@octokit/rest` client with the user's OAuth token. */
import { Octokit } from '@octokit/rest';
import { kindOfStatus, ProviderError, type ProviderErrorKind } from './provider-call';

const TIMEOUT_MS = 15_000;
const REPO_SCOPE = 'repo';

async function github<T>(call: () => Promise<{ data: T }>): Promise<T> {
  try {
    return (await call()).data;
  } catch (err) {
    throw new ProviderError(githubErrorKind(err));
  }
}

/**
 * Octokit reports a network failure as status 500 without a `response`. GitHub hides what a token may not see
 * behind 404 (403 for some writes); its `x-oauth-scopes` header, when present, shows whether `repo` was granted.
 */
function githubErrorKind(err: unknown): ProviderErrorKind {
  const response = (err as { response?: { status?: number; headers?: Record<string, string | number | undefined> } }).response;
  if (!response) return 'unreachable';
  const { status, headers = {} } = response;
  if (status === 429 || (status === 403 && String(headers['x-ratelimit-remaining']) === '0')) return 'rate_limited';
  const granted = headers['x-oauth-scopes'];
  if ((status === 403 || status === 404) && typeof granted === 'string' && granted.trim() && !granted.split(/,\s*/).includes(REPO_SCOPE)) {
    return 'insufficient_scope';
  }
  return kindOfStatus(status);
}

export interface GitHubRepo {
  fullName: string;
  private: boolean;
  description: string;
  openIssues: number;
  updatedAt: string;
  url: string;
}

export interface GitHubIssue {
  number: number;
  title: string;
  state: string;
  author: string;
  labels: string[];
  createdAt: string;
  url: string;
}

const splitRepo = (fullName: string) => {
  const [owner = '', repo = ''] = fullName.split('/');
  return { owner, repo };
};

export class GitHubConnector {
  constructor(private readonly baseUrl: string) {}

  /**
   * One client per call: the token is the user's, and the timeout signal starts when the call does (Octokit's
   * fetch-based request takes a signal, not a timeout). Failed requests become results, so they are not logged.
   */
  private client(token: string) {
    return new Octokit({
      auth: token,
      baseUrl: this.baseUrl,
      userAgent: 'Deputy',
      request: { signal: AbortSignal.timeout(TIMEOUT_MS) },
      log: { debug: () => {}, info: () => {}, warn: console.warn, error: () => {} },
    });
  }

  async listRepos(token: string): Promise<GitHubRepo[]> {
    const repos = await github(() => this.client(token).rest.repos.listForAuthenticatedUser({ sort: 'updated', per_page: 50 }));
    return repos.map((r) => ({
      fullName: r.full_name,
      private: r.private,
      description: r.description ?? '',
      openIssues: r.open_issues_count,
      updatedAt: r.updated_at ?? '',
      url: r.html_url,
    }));
  }

  /** Issues only: GitHub lists pull requests among issues, marked by a `pull_request` key. */
  async listIssues(token: string, fullName: string, state: 'open' | 'closed' | 'all'): Promise<GitHubIssue[]> {
    const issues = await github(() => this.client(token).rest.issues.listForRepo({ ...splitRepo(fullName), state, per_page: 50 }));
    return issues
      .filter((i) => !i.pull_request)
      .map((i) => ({
        number: i.number,
        title: i.title,
        state: i.state,
        author: i.user?.login ?? '',
        labels: i.labels.flatMap((l) => (typeof l === 'string' ? [l] : l.name ? [l.name] : [])),
        createdAt: i.created_at,
        url: i.html_url,
      }));
  }

  /** One issue with its text (the body is written by whoever opened it: untrusted). */
  async getIssue(token: string, fullName: string, number: number): Promise<Omit<GitHubIssue, 'labels'> & { labels?: string[]; body: string }> {
    const i = await github(() => this.client(token).rest.issues.get({ ...splitRepo(fullName), issue_number: number }));
    const labels = i.labels.flatMap((l) => (typeof l === 'string' ? [l] : l.name ? [l.name] : []));
    return {
      number: i.number,
      title: i.title,
      state: i.state,
      author: i.user?.login ?? '',
      ...(labels.length ? { labels } : {}),
      createdAt: i.created_at,
      url: i.html_url,
      body: (i.body ?? '').slice(0, 20_000),
    };
  }

  async createIssue(token: string, fullName: string, issue: { title: string; body?: string; labels?: string[] }): Promise<{ number: number; url: string }> {
    const created = await github(() => this.client(token).rest.issues.create({ ...splitRepo(fullName), ...issue }));
    return { number: created.number, url: created.html_url };
  }
}
