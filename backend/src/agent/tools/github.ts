/** Tools over the user's GitHub repositories and issues, through the `github` connection. */
import { z } from 'zod';
import { type ConnectionName, PROVIDER_SCOPES } from '../../../../lib/connections';
import { GitHubConnector } from '../../connectors/github';
import { withConnection } from '../../connectors/provider-call';
import { defineTool, toBindingMessage, type ToolDeclaration } from '../tool-declaration';

const needs = () => ({ requiredScopes: ['chat'], connection: { name: 'github' satisfies ConnectionName, scopes: [PROVIDER_SCOPES.github.repo] } });

const Repo = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/, 'owner/name')
  .describe('The repository as owner/name (from list_github_repos).');

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function githubTools(githubApiUrl: string): ToolDeclaration[] {
  const github = new GitHubConnector(githubApiUrl);
  return [
    defineTool({
      name: 'list_github_repos',
      description: 'List the GitHub repositories (repos) the user can access.',
      input: z.strictObject({}),
      tier: 'read',
      ...needs(),
      sideEffect: false,
      describe: () => ({ summary: 'List your GitHub repositories', bindingMessage: 'List GitHub repositories', authorizationDetails: [{ type: 'github_repo_read' }] }),
      outcome: (data) => count((data as { repos?: unknown[] }).repos?.length ?? 0, 'repository', 'repositories'),
      // A repository the user can reach may be called by its name alone ("the website repo").
      directory: (data) =>
        ((data as { repos?: Array<{ fullName?: string }> }).repos ?? []).flatMap((r) =>
          r.fullName ? [{ kind: 'github_repo' as const, value: r.fullName, names: [r.fullName, r.fullName.split('/')[1]!] }] : [],
        ),
      execute: (_args, ctx) => withConnection(ctx, 'GitHub', async (token) => ({ repos: await github.listRepos(token) })),
    }),
    defineTool({
      name: 'list_github_issues',
      description: 'List the issues of a GitHub repository.',
      input: z.strictObject({ repo: Repo, state: z.enum(['open', 'closed', 'all']).optional().describe('Default open.') }),
      tier: 'read',
      ...needs(),
      sideEffect: false,
      resultTrust: 'untrusted',
      describe: (args) => ({
        summary: `List ${args.state ?? 'open'} issues in ${args.repo}`,
        bindingMessage: toBindingMessage(`List issues in ${args.repo}`),
        authorizationDetails: [{ type: 'github_repo_read', ...args }],
      }),
      outcome: (data) => count((data as { issues?: unknown[] }).issues?.length ?? 0, 'issue'),
      execute: ({ repo, state }, ctx) => withConnection(ctx, 'GitHub', async (token) => ({ repo, issues: await github.listIssues(token, repo, state ?? 'open') })),
    }),
    defineTool({
      name: 'read_github_issue',
      description: 'Read one GitHub issue (its title and full text) by repository and number.',
      input: z.strictObject({ repo: Repo, number: z.int().min(1).max(1_000_000).describe('The issue number, e.g. 12.') }),
      tier: 'read',
      ...needs(),
      sideEffect: false,
      resultTrust: 'untrusted',
      describe: (args) => ({
        summary: `Read issue #${args.number} in ${args.repo}`,
        bindingMessage: toBindingMessage(`Read issue ${args.number} in ${args.repo}`),
        authorizationDetails: [{ type: 'github_repo_read', ...args }],
      }),
      outcome: (data) => `Read issue #${(data as { number?: number }).number ?? '?'}`,
      execute: ({ repo, number }, ctx) => withConnection(ctx, 'GitHub', (token) => github.getIssue(token, repo, number)),
    }),
    defineTool({
      name: 'create_github_issue',
      description: 'Create an issue in a GitHub repository.',
      input: z.strictObject({
        repo: Repo,
        title: z.string().trim().min(1).max(256).describe('The issue title.'),
        body: z.string().max(20_000).optional().describe('The issue text.'),
        labels: z.array(z.string().min(1).max(50)).max(10).optional(),
      }),
      tier: 'write',
      ...needs(),
      sideEffect: true,
      describe: (args) => ({
        summary: `Create issue “${args.title}” in ${args.repo}${args.labels?.length ? ` labelled ${args.labels.join(', ')}` : ''}`,
        bindingMessage: toBindingMessage(`Create issue in ${args.repo}: ${args.title}`),
        authorizationDetails: [{ type: 'github_issue_create', ...args }],
      }),
      destinations: (args) => [{ kind: 'github_repo', value: args.repo }],
      outcome: (data) => `Created issue #${(data as { number?: number }).number ?? '?'}`,
      // GitHub has no idempotency key for issues; the create is attempted once (a refused token creates nothing).
      execute: ({ repo, title, body, labels }, ctx) =>
        withConnection(ctx, 'GitHub', (token) => github.createIssue(token, repo, { title, ...(body ? { body } : {}), ...(labels?.length ? { labels } : {}) })),
    }),
  ];
}
