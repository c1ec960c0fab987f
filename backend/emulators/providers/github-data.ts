/**
 * The emulated GitHub's data and who may do what with it: users and organizations, repositories (owner,
 * collaborators with push access, organization members), issues. Seeded issues are rebuilt at every start; issues
 * created through the API are kept in the state.
 */
import type { ProviderState } from './state';

export interface GithubUser {
  login: string;
  id: number;
  type: 'User' | 'Organization';
  name?: string;
  /** The emulator account this GitHub user belongs to. */
  email?: string;
  company?: string;
  location?: string;
  bio?: string;
  /** Organization members (logins). */
  members?: string[];
  createdAt: string;
}

export interface GithubRepo {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  description: string;
  language?: string;
  topics: string[];
  stars: number;
  /** Users with push access besides the owner. */
  collaborators: string[];
  labels: Array<{ name: string; color: string; description?: string }>;
  createdAt: string;
  updatedAt: string;
  pushedAt: string;
}

export interface GithubIssue {
  id: number;
  /** owner/name */
  repo: string;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  stateReason: 'completed' | 'not_planned' | null;
  user: string;
  labels: string[];
  assignees: string[];
  comments: number;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export const fullName = (r: GithubRepo) => `${r.owner}/${r.name}`;

export class GithubData {
  private readonly issues: GithubIssue[];

  constructor(
    readonly users: GithubUser[],
    readonly repos: GithubRepo[],
    seed: GithubIssue[],
    private readonly state: ProviderState,
  ) {
    this.issues = [...seed, ...(state.added.issues as GithubIssue[])];
  }

  user(login: string) {
    return this.users.find((u) => u.login.toLowerCase() === login.toLowerCase());
  }

  userByEmail(email: string) {
    return this.users.find((u) => u.email?.toLowerCase() === email.toLowerCase());
  }

  repo(owner: string, name: string) {
    return this.repos.find((r) => r.owner.toLowerCase() === owner.toLowerCase() && r.name.toLowerCase() === name.toLowerCase());
  }

  isOrgMember(repo: GithubRepo, login: string) {
    return this.user(repo.owner)?.members?.includes(login) ?? false;
  }

  canPush(repo: GithubRepo, login: string | undefined) {
    return !!login && (repo.owner === login || repo.collaborators.includes(login));
  }

  /** Private repositories are visible to those with access, and only to tokens with the `repo` scope. */
  canRead(repo: GithubRepo, login: string | undefined, scopes: readonly string[]) {
    if (!repo.private) return true;
    return !!login && scopes.includes('repo') && (this.canPush(repo, login) || this.isOrgMember(repo, login));
  }

  issuesOf(repo: GithubRepo) {
    return this.issues.filter((i) => i.repo === fullName(repo));
  }

  openIssueCount(repo: GithubRepo) {
    return this.issuesOf(repo).filter((i) => i.state === 'open').length;
  }

  lastUpdate(repo: GithubRepo) {
    return this.issuesOf(repo).reduce((latest, i) => (i.updatedAt > latest ? i.updatedAt : latest), repo.updatedAt);
  }

  addIssue(repo: GithubRepo, fields: Pick<GithubIssue, 'title' | 'body' | 'user' | 'labels' | 'assignees'>): GithubIssue {
    const now = new Date().toISOString();
    const issue: GithubIssue = {
      ...fields,
      id: Math.max(0, ...this.issues.map((i) => i.id)) + 1,
      repo: fullName(repo),
      number: Math.max(0, ...this.issuesOf(repo).map((i) => i.number)) + 1,
      state: 'open',
      stateReason: null,
      comments: 0,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
    };
    this.issues.push(issue);
    this.state.added.issues.push(issue);
    return issue;
  }
}
