/**
 * The emulated GitHub under /github: OAuth (ghu_ user tokens, rotating ghr_ refresh tokens) at /github/login/oauth/*
 * and a REST v3 subset at /github/api (the user, their repositories, issues). Errors and scope handling follow
 * GitHub: a token that may not see a private repository gets 404, not 403. @octokit/rest works with this baseUrl.
 */
import { randomBytes } from 'node:crypto';
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { mountAuthorization } from './authorize-routes';
import { fullName, type GithubData, type GithubIssue, type GithubRepo } from './github-data';
import { githubResources } from './github-resources';
import type { IssuedTokens, OAuthServer, ProviderProfile } from './oauth';
import { allParams, bearerToken, clientCredentials, type Params, splitScopes } from './params';
import type { Grant, ProviderState } from './state';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const alnum = (n: number) => Array.from(randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join('');

const DOCS = 'https://docs.github.com';
const TROUBLESHOOTING = `${DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/`;

export const githubProfile: ProviderProfile = {
  id: 'github',
  scopes: {
    repo: 'Full control of private repositories (code, issues, pull requests and settings)',
    public_repo: 'Access public repositories',
    'read:user': 'Read all user profile data',
    'user:email': 'Access user email addresses (read-only)',
  },
  newAccessToken: () => `ghu_${alnum(36)}`,
  newRefreshToken: () => `ghr_${alnum(76)}`,
  rotateRefreshToken: true,
  refreshTokenTtlSeconds: 15_897_600,
  incrementalConsent: false,
  errorRedirectParams: (error) => ({
    ...(error === 'access_denied' ? { error_description: 'The user has denied your application access.' } : {}),
    error_uri: `${TROUBLESHOOTING}#${error.replace(/_/g, '-')}`,
  }),
};

type GithubEnv = { Variables: { grant?: Grant; login?: string } };

const ghError = (c: Context, status: ContentfulStatusCode, message: string, docs = `${DOCS}/rest`, extra: Record<string, unknown> = {}) =>
  c.json({ message, ...extra, documentation_url: docs, status: String(status) }, status);

export function githubApp(oauth: OAuthServer, state: ProviderState, data: GithubData): Hono<GithubEnv> {
  const app = new Hono<GithubEnv>();

  mountAuthorization(app, {
    oauth,
    profile: githubProfile,
    path: '/login/oauth/authorize',
    publicPath: '/github/login/oauth/authorize',
    parse: (q: Params) => ({
      clientId: q.client_id,
      redirectUri: q.redirect_uri,
      scopes: splitScopes(q.scope, /[\s,]+/),
      state: q.state,
      loginHint: q.login_hint ?? (q.login ? data.user(q.login)?.email : undefined),
      codeChallenge: q.code_challenge,
      codeChallengeMethod: q.code_challenge_method,
      includeGrantedScopes: false,
    }),
  });

  app.post('/login/oauth/access_token', async (c) => {
    const wantsJson = /application\/json/i.test(c.req.header('accept') ?? '');
    const answer = (body: Record<string, string | number | undefined>) => {
      const fields = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Record<string, string | number>;
      if (wantsJson) return c.json(fields, 200, { 'cache-control': 'no-store' });
      const form = new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)]));
      return c.body(form.toString(), 200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'cache-control': 'no-store' });
    };
    const fail = (error: string, description: string, anchor = error.replace(/_/g, '-')) =>
      answer({ error, error_description: description, error_uri: `${DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#${anchor}` });
    const issued = (t: IssuedTokens) =>
      answer({ access_token: t.accessToken, expires_in: t.expiresIn, refresh_token: t.refreshToken, refresh_token_expires_in: t.refreshTokenExpiresIn, scope: t.scopes.join(','), token_type: 'bearer' });

    let p: Params;
    try {
      p = await allParams(c);
    } catch {
      return ghError(c, 400, 'Problems parsing JSON');
    }
    const { clientId, clientSecret } = clientCredentials(c, p);
    const auth = oauth.authenticateClient(clientId, clientSecret);
    if ('error' in auth) return fail('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
    if (p.grant_type === 'refresh_token') {
      const r = oauth.refresh(githubProfile, auth.client, p.refresh_token);
      return 'error' in r ? fail('bad_refresh_token', 'The refresh token passed is incorrect or expired.') : issued(r);
    }
    const r = oauth.redeemCode(githubProfile, auth.client, { code: p.code, redirectUri: p.redirect_uri, codeVerifier: p.code_verifier, redirectUriRequired: false });
    if ('error' in r) {
      return r.error === 'redirect_uri_mismatch'
        ? fail('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.')
        : fail('bad_verification_code', 'The code passed is incorrect or expired.');
    }
    return issued(r);
  });

  const api = new Hono<GithubEnv>();

  /** No Authorization header: anonymous (public data only). A token that does not work: 401 Bad credentials. */
  api.use('*', async (c, next) => {
    c.header('x-github-media-type', 'github.v3; format=json');
    c.header('x-github-api-version-selected', '2022-11-28');
    if (c.req.header('authorization')) {
      const token = bearerToken(c, /^(Bearer|token)$/i);
      const verified = token ? oauth.verify('github', token) : undefined;
      if (!verified?.ok) return ghError(c, 401, 'Bad credentials');
      c.set('grant', verified.grant);
      c.set('login', data.userByEmail(verified.grant.account)?.login);
      c.header('x-oauth-scopes', verified.grant.scopes.join(', '));
    }
    await next();
  });

  const base = (c: Context) => `${new URL(c.req.url).origin}/github/api`;
  const scopesOf = (c: Context<GithubEnv>) => c.get('grant')?.scopes ?? [];
  const view = (c: Context<GithubEnv>) => githubResources(data, base(c), c.get('login'));

  /** per_page / page paging with GitHub's Link header. */
  const paginate = <T>(c: Context, items: T[]): { page: T[]; link?: string } => {
    const perPage = Math.min(100, Math.max(1, Number(c.req.query('per_page')) || 30));
    const page = Math.max(1, Number(c.req.query('page')) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const url = new URL(c.req.url);
    const at = (n: number) => {
      url.searchParams.set('per_page', String(perPage));
      url.searchParams.set('page', String(n));
      return `<${base(c)}${url.pathname.replace(/^\/github\/api/, '')}${url.search}>`;
    };
    const rels = [
      ...(page > 1 ? [`${at(page - 1)}; rel="prev"`] : []),
      ...(page < last ? [`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`] : []),
      ...(page > 1 ? [`${at(1)}; rel="first"`] : []),
    ];
    return { page: items.slice((page - 1) * perPage, page * perPage), link: rels.length ? rels.join(', ') : undefined };
  };
  const listResponse = <T>(c: Context, items: T[], accepted: string) => {
    const { page, link } = paginate(c, items);
    return c.json(page, 200, { 'x-accepted-oauth-scopes': accepted, ...(link ? { link } : {}) });
  };

  const requireAuth = (c: Context<GithubEnv>) => (c.get('login') ? undefined : ghError(c, 401, 'Requires authentication', `${DOCS}/rest/users/users#get-the-authenticated-user`));

  /** The repository when the caller may see it; otherwise GitHub's 404. */
  const visibleRepo = (c: Context<GithubEnv>) => {
    const repo = data.repo(c.req.param('owner') ?? '', c.req.param('repo') ?? '');
    return repo && data.canRead(repo, c.get('login'), scopesOf(c)) ? repo : undefined;
  };
  const repoNotFound = (c: Context) => ghError(c, 404, 'Not Found', `${DOCS}/rest/repos/repos#get-a-repository`);

  api.get('/user', (c) => {
    const denied = requireAuth(c);
    if (denied) return denied;
    const u = data.user(c.get('login')!)!;
    const owned = data.repos.filter((r) => r.owner === u.login);
    return c.json(
      {
        ...view(c).user(u),
        name: u.name ?? null,
        company: u.company ?? null,
        blog: '',
        location: u.location ?? null,
        email: scopesOf(c).some((s) => s === 'user:email' || s === 'read:user') ? (u.email ?? null) : null,
        hireable: null,
        bio: u.bio ?? null,
        twitter_username: null,
        public_repos: owned.filter((r) => !r.private).length,
        public_gists: 0,
        followers: 3,
        following: 2,
        created_at: u.createdAt,
        updated_at: u.createdAt,
      },
      200,
      { 'x-accepted-oauth-scopes': '' },
    );
  });

  api.get('/user/repos', (c) => {
    const denied = requireAuth(c);
    if (denied) return denied;
    const login = c.get('login')!;
    const q = c.req.query();
    if (q.type && (q.visibility || q.affiliation)) {
      return ghError(c, 422, 'If you specify visibility or affiliation, you cannot specify type.', `${DOCS}/rest/repos/repos#list-repositories-for-the-authenticated-user`);
    }
    const affiliation = splitScopes(q.affiliation ?? 'owner,collaborator,organization_member', /,/);
    const type = q.type ?? 'all';
    const visibility = q.visibility ?? (type === 'public' || type === 'private' ? type : 'all');
    const relation = (r: GithubRepo) =>
      r.owner === login ? 'owner' : r.collaborators.includes(login) && data.user(r.owner)?.type === 'User' ? 'collaborator' : data.isOrgMember(r, login) || r.collaborators.includes(login) ? 'organization_member' : undefined;
    const sort = q.sort ?? 'full_name';
    const direction = q.direction ?? (sort === 'full_name' ? 'asc' : 'desc');
    const key = (r: GithubRepo) => (sort === 'created' ? r.createdAt : sort === 'updated' ? data.lastUpdate(r) : sort === 'pushed' ? r.pushedAt : fullName(r).toLowerCase());
    const repos = data.repos
      .filter((r) => {
        const rel = relation(r);
        if (!rel || !data.canRead(r, login, scopesOf(c))) return false;
        if (type === 'owner' && rel !== 'owner') return false;
        if (type === 'member' && rel === 'owner') return false;
        if (visibility !== 'all' && (visibility === 'private') !== r.private) return false;
        return affiliation.includes(rel);
      })
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (direction === 'asc' ? 1 : -1));
    return listResponse(c, repos.map(view(c).repo), 'repo');
  });

  api.get('/repos/:owner/:repo', (c) => {
    const repo = visibleRepo(c);
    return repo ? c.json(view(c).repo(repo), 200, { 'x-accepted-oauth-scopes': 'repo' }) : repoNotFound(c);
  });

  api.get('/repos/:owner/:repo/issues', (c) => {
    const repo = visibleRepo(c);
    if (!repo) return repoNotFound(c);
    const q = c.req.query();
    const state = q.state ?? 'open';
    if (!['open', 'closed', 'all'].includes(state)) return ghError(c, 422, 'Validation Failed', `${DOCS}/rest/issues/issues#list-repository-issues`, { errors: [{ resource: 'Issue', field: 'state', code: 'invalid' }] });
    const labels = splitScopes(q.labels, /,/).map((l) => l.toLowerCase());
    const since = q.since ? Date.parse(q.since) : undefined;
    const sort = q.sort ?? 'created';
    const direction = q.direction ?? 'desc';
    const key = (i: GithubIssue) => (sort === 'updated' ? Date.parse(i.updatedAt) : sort === 'comments' ? i.comments : Date.parse(i.createdAt));
    const issues = data
      .issuesOf(repo)
      .filter((i) => state === 'all' || i.state === state)
      .filter((i) => labels.every((l) => i.labels.some((x) => x.toLowerCase() === l)))
      .filter((i) => since === undefined || Date.parse(i.updatedAt) >= since)
      .filter((i) => !q.creator || i.user.toLowerCase() === q.creator.toLowerCase())
      .filter((i) => !q.assignee || (q.assignee === 'none' ? i.assignees.length === 0 : q.assignee === '*' ? i.assignees.length > 0 : i.assignees.includes(q.assignee)))
      .sort((a, b) => (key(a) - key(b)) * (direction === 'asc' ? 1 : -1));
    return listResponse(c, issues.map((i) => view(c).issue(repo, i)), 'repo');
  });

  api.get('/repos/:owner/:repo/issues/:number', (c) => {
    const repo = visibleRepo(c);
    const issue = repo && data.issuesOf(repo).find((i) => String(i.number) === c.req.param('number'));
    if (!repo || !issue) return ghError(c, 404, 'Not Found', `${DOCS}/rest/issues/issues#get-an-issue`);
    return c.json(view(c).issue(repo, issue), 200, { 'x-accepted-oauth-scopes': 'repo' });
  });

  const NewIssue = z.object({
    title: z.union([z.string(), z.number()]).optional(),
    body: z.string().nullable().optional(),
    labels: z.array(z.union([z.string(), z.object({ name: z.string() })])).optional(),
    assignees: z.array(z.string()).optional(),
    assignee: z.string().nullable().optional(),
  });

  api.post('/repos/:owner/:repo/issues', async (c) => {
    const docs = `${DOCS}/rest/issues/issues#create-an-issue`;
    const denied = requireAuth(c);
    if (denied) return denied;
    const login = c.get('login')!;
    const repo = visibleRepo(c);
    const scopes = scopesOf(c);
    const scoped = repo && (scopes.includes('repo') || (!repo.private && scopes.includes('public_repo')));
    if (!repo || !scoped) return ghError(c, 404, 'Not Found', docs);
    let raw: unknown;
    try {
      raw = JSON.parse(await c.req.text());
    } catch {
      return ghError(c, 400, 'Problems parsing JSON', docs);
    }
    const body = NewIssue.safeParse(raw);
    if (!body.success) return ghError(c, 422, 'Invalid request.', docs);
    const title = String(body.data.title ?? '').trim();
    if (!title) return ghError(c, 422, 'Validation Failed', docs, { errors: [{ resource: 'Issue', code: 'missing_field', field: 'title' }] });
    // As on GitHub, labels and assignees are only applied for people with push access; others' are dropped.
    const push = data.canPush(repo, login);
    const assignees = push ? [...new Set([...(body.data.assignees ?? []), ...(body.data.assignee ? [body.data.assignee] : [])])] : [];
    const invalid = assignees.find((a) => !data.canPush(repo, a) && !data.isOrgMember(repo, a));
    if (invalid) return ghError(c, 422, 'Validation Failed', docs, { errors: [{ value: invalid, resource: 'Issue', field: 'assignees', code: 'invalid' }] });
    const labels = push ? [...new Set((body.data.labels ?? []).map((l) => (typeof l === 'string' ? l : l.name)).filter(Boolean))] : [];
    const issue = data.addIssue(repo, { title, body: body.data.body ?? null, user: login, labels, assignees });
    state.record({ provider: 'github', kind: 'github.issue', account: c.get('grant')!.account, data: { repo: fullName(repo), number: issue.number, title, body: issue.body } });
    state.save();
    const resource = view(c).issue(repo, issue);
    return c.json(resource, 201, { location: resource.url, 'x-accepted-oauth-scopes': 'repo' });
  });

  api.notFound((c) => ghError(c, 404, 'Not Found'));
  app.route('/api', api);
  return app;
}
