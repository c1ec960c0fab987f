/** GitHub REST v3 representations of users, repositories and issues, as seen by `viewer` (a login, or anonymous). */
import { createHash } from 'node:crypto';
import { fullName, type GithubData, type GithubIssue, type GithubRepo, type GithubUser } from './github-data';

const nodeId = (prefix: string, id: number) => `${prefix}_kgDO${Buffer.from(String(id)).toString('base64url')}`;
const labelId = (r: GithubRepo, name: string) => 900_000_000 + (r.id % 1000) * 100_000 + (createHash('sha256').update(name).digest().readUInt32BE(0) % 100_000);

export function githubResources(data: GithubData, apiBase: string, viewer: string | undefined) {
  const user = (u: GithubUser) => ({
    login: u.login,
    id: u.id,
    node_id: nodeId(u.type === 'User' ? 'U' : 'O', u.id),
    avatar_url: `https://avatars.githubusercontent.com/u/${u.id}?v=4`,
    gravatar_id: '',
    url: `${apiBase}/users/${u.login}`,
    html_url: `https://github.com/${u.login}`,
    type: u.type,
    site_admin: false,
  });

  const repo = (r: GithubRepo) => {
    const url = `${apiBase}/repos/${fullName(r)}`;
    const open = data.openIssueCount(r);
    const push = data.canPush(r, viewer);
    return {
      id: r.id,
      node_id: nodeId('R', r.id),
      name: r.name,
      full_name: fullName(r),
      private: r.private,
      owner: user(data.user(r.owner)!),
      html_url: `https://github.com/${fullName(r)}`,
      description: r.description,
      fork: false,
      url,
      issues_url: `${url}/issues{/number}`,
      created_at: r.createdAt,
      updated_at: data.lastUpdate(r),
      pushed_at: r.pushedAt,
      homepage: null,
      size: 100 + (r.id % 900),
      stargazers_count: r.stars,
      watchers_count: r.stars,
      language: r.language ?? null,
      has_issues: true,
      forks_count: 0,
      archived: false,
      disabled: false,
      open_issues_count: open,
      license: null,
      allow_forking: !r.private,
      is_template: false,
      topics: r.topics,
      visibility: r.private ? 'private' : 'public',
      forks: 0,
      open_issues: open,
      watchers: r.stars,
      default_branch: 'main',
      ...(viewer ? { permissions: { admin: r.owner === viewer, maintain: r.owner === viewer, push, triage: push, pull: true } } : {}),
    };
  };

  const issue = (r: GithubRepo, i: GithubIssue) => {
    const repoUrl = `${apiBase}/repos/${fullName(r)}`;
    const url = `${repoUrl}/issues/${i.number}`;
    const person = (login: string) => user(data.user(login) ?? { login, id: 0, type: 'User', createdAt: r.createdAt });
    const association = i.user === r.owner ? 'OWNER' : r.collaborators.includes(i.user) ? 'COLLABORATOR' : data.isOrgMember(r, i.user) ? 'MEMBER' : 'NONE';
    return {
      url,
      repository_url: repoUrl,
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: `https://github.com/${fullName(r)}/issues/${i.number}`,
      id: i.id,
      node_id: nodeId('I', i.id),
      number: i.number,
      title: i.title,
      user: person(i.user),
      labels: i.labels.map((name) => {
        const known = r.labels.find((l) => l.name === name);
        const id = labelId(r, name);
        return { id, node_id: nodeId('LA', id), url: `${repoUrl}/labels/${encodeURIComponent(name)}`, name, color: known?.color ?? 'ededed', default: false, description: known?.description ?? null };
      }),
      state: i.state,
      locked: false,
      assignee: i.assignees[0] ? person(i.assignees[0]) : null,
      assignees: i.assignees.map(person),
      milestone: null,
      comments: i.comments,
      created_at: i.createdAt,
      updated_at: i.updatedAt,
      closed_at: i.closedAt,
      author_association: association,
      active_lock_reason: null,
      body: i.body,
      closed_by: null,
      timeline_url: `${url}/timeline`,
      performed_via_github_app: null,
      state_reason: i.stateReason,
    };
  };

  return { user, repo, issue };
}
