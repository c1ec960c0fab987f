/** GitHub through the official `@octokit/rest` client. */
import { Octokit } from '@octokit/rest';
import { kindOfStatus, ProviderError } from './provider-call';

async function github<T>(call: () => Promise<{ data: T }>): Promise<T> {
  try {
    return (await call()).data;
  } catch (err) {
    const status = (err as { status?: number }).status;
    throw new ProviderError(kindOfStatus(status));
  }
}

export class GitHubConnector {
  constructor(private readonly baseUrl: string) {}

  private client(token: string) {
    return new Octokit({ auth: token, baseUrl: this.baseUrl, request: { signal: AbortSignal.timeout(15_000) } });
  }

  async listRepos(token: string) {
    const repos = await github(() => this.client(token).rest.repos.listForAuthenticatedUser({ sort: 'updated', per_page: 50 }));
    return repos.map((r) => ({ fullName: r.full_name, private: r.private, description: r.description ?? '', openIssues: r.open_issues_count, updatedAt: r.updated_at ?? '', url: r.html_url }));
  }

  async listIssues(token: string, repo: string, state: 'open' | 'closed' | 'all') {
    const [owner, name] = repo.split('/') as [string, string];
    const issues = await github(() => this.client(token).rest.issues.listForRepo({ owner, repo: name, state, per_page: 50 }));
    return issues
      .filter((i) => !i.pull_request)
      .map((i) => ({
        number: i.number,
        title: i.title,
        state: i.state,
        author: i.user?.login ?? '',
        labels: i.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter(Boolean),
        createdAt: i.created_at,
        url: i.html_url,
      }));
  }

  async createIssue(token: string, repo: string, issue: { title: string; body?: string; labels?: string[] }) {
    const [owner, name] = repo.split('/') as [string, string];
    const created = await github(() => this.client(token).rest.issues.create({ owner, repo: name, ...issue }));
    return { number: created.number, url: created.html_url };
  }
}
