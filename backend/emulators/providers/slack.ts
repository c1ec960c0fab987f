/**
 * The emulated Slack under /slack: OAuth v2 with user tokens (xoxp-, rotating xoxe- refresh tokens) and the Web API
 * methods Deputy uses at /slack/api/{method}, one workspace shared by every account. Like Slack, every answer is
 * HTTP 200 with `ok` true or false; the official @slack/web-api client works against it with `slackApiUrl`.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { mountAuthorization } from './authorize-routes';
import { SLACK_WORKSPACE_NAME } from './consent-page';
import type { IssuedTokens, OAuthServer, ProviderProfile } from './oauth';
import { allParams, bearerToken, clientCredentials, type Params, splitScopes } from './params';
import type { SlackChannel, SlackMessage, SlackUser, SlackWorkspace } from './slack-workspace';
import type { Grant, ProviderState } from './state';

const SLACK_TEAM = { id: 'T0DEPUTY', name: SLACK_WORKSPACE_NAME, domain: 'deputy-demo' } as const;
const APP_ID = 'A0DEPUTY01';
const MAX_TEXT = 40_000;

const digits = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? randomInt(1, 10) : randomInt(0, 10))).join('');

export const slackProfile: ProviderProfile = {
  id: 'slack',
  scopes: {
    'channels:read': 'View basic information about public channels in your workspace',
    'channels:history': 'View messages and other content in public channels',
    'chat:write': 'Send messages on your behalf',
  },
  newAccessToken: () => `xoxp-${digits(13)}-${digits(13)}-${digits(13)}-${randomBytes(16).toString('hex')}`,
  newRefreshToken: () => `xoxe-1-${randomBytes(90).toString('base64url')}`,
  rotateRefreshToken: true,
  incrementalConsent: false,
};

type Result = Record<string, unknown>;
interface Call {
  params: Params;
  grant: Grant;
  user: SlackUser;
  token: string;
}
interface Method {
  scope?: string;
  run(call: Call): Result;
}

const cursorOf = (kind: string, value: string) => Buffer.from(`${kind}:${value}`).toString('base64');
const cursorValue = (kind: string, cursor: string | undefined) => {
  if (!cursor) return undefined;
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  return text.startsWith(`${kind}:`) ? text.slice(kind.length + 1) : null;
};
const flag = (v: string | undefined) => v === 'true' || v === '1';
const clampLimit = (v: string | undefined, fallback: number, max: number) => {
  const n = Number(v);
  return v === undefined || !Number.isFinite(n) || n <= 0 ? fallback : Math.min(Math.floor(n), max);
};

function methods(ws: SlackWorkspace, oauth: OAuthServer, state: ProviderState): Record<string, Method> {
  const channelResource = (ch: SlackChannel, viewer: SlackUser) => ({
    id: ch.id,
    name: ch.name,
    is_channel: true,
    is_group: false,
    is_im: false,
    is_mpim: false,
    is_private: false,
    created: ch.created,
    is_archived: ch.isArchived,
    is_general: ch.name === 'general',
    unlinked: 0,
    name_normalized: ch.name,
    is_shared: false,
    is_org_shared: false,
    is_ext_shared: false,
    is_pending_ext_shared: false,
    pending_shared: [],
    context_team_id: SLACK_TEAM.id,
    shared_team_ids: [SLACK_TEAM.id],
    parent_conversation: null,
    creator: ch.creator,
    is_member: ch.members.includes(viewer.id),
    topic: { value: ch.topic, creator: ch.creator, last_set: ch.topic ? ch.created : 0 },
    purpose: { value: ch.purpose, creator: ch.creator, last_set: ch.purpose ? ch.created : 0 },
    previous_names: [],
    num_members: ch.members.length,
  });
  const messageResource = (m: SlackMessage) => {
    const author = ws.user(m.user);
    return {
      type: 'message',
      user: m.user,
      text: m.text,
      ts: m.ts,
      team: SLACK_TEAM.id,
      user_profile: { real_name: author?.realName ?? '', display_name: author?.displayName ?? '', name: author?.name ?? '' },
    };
  };

  return {
    'auth.test': {
      run: ({ user }) => ({ url: `https://${SLACK_TEAM.domain}.slack.com/`, team: SLACK_TEAM.name, user: user.name, team_id: SLACK_TEAM.id, user_id: user.id, is_enterprise_install: false }),
    },
    'auth.revoke': {
      run: ({ params, token }) => {
        if (flag(params.test)) return { revoked: false };
        oauth.revoke('slack', token, { forgetConsent: false });
        return { revoked: true };
      },
    },
    'conversations.list': {
      scope: 'channels:read',
      run: ({ params, user }) => {
        const types = splitScopes(params.types ?? 'public_channel', /,/);
        if (types.some((t) => !['public_channel', 'private_channel', 'mpim', 'im'].includes(t))) return { ok: false, error: 'invalid_types' };
        const after = cursorValue('channel', params.cursor);
        if (after === null) return { ok: false, error: 'invalid_cursor' };
        // Every channel here is public; private channels, group DMs and DMs would need groups:read, mpim:read, im:read.
        const all = types.includes('public_channel') ? ws.channels.filter((ch) => !(flag(params.exclude_archived) && ch.isArchived)) : [];
        const start = after ? Math.max(0, all.findIndex((ch) => ch.id === after)) : 0;
        const limit = clampLimit(params.limit, 100, 1000);
        const page = all.slice(start, start + limit);
        const next = all[start + limit];
        return { channels: page.map((ch) => channelResource(ch, user)), response_metadata: { next_cursor: next ? cursorOf('channel', next.id) : '' } };
      },
    },
    'conversations.history': {
      scope: 'channels:history',
      run: ({ params, user }) => {
        const ch = ws.channel(params.channel);
        if (!ch || params.channel?.startsWith('#')) return { ok: false, error: 'channel_not_found' };
        if (!ch.members.includes(user.id)) return { ok: false, error: 'not_in_channel' };
        const inclusive = flag(params.inclusive);
        const oldest = Number(params.oldest ?? 0);
        const cursorTs = cursorValue('next_ts', params.cursor);
        if (cursorTs === null) return { ok: false, error: 'invalid_cursor' };
        const latest = cursorTs !== undefined ? Number(cursorTs) : params.latest !== undefined ? Number(params.latest) : Number.POSITIVE_INFINITY;
        const limit = clampLimit(params.limit, 100, 999);
        const within = ws
          .history(ch.id)
          .filter((m) => (inclusive ? Number(m.ts) >= oldest : Number(m.ts) > oldest))
          .filter((m) => (inclusive && cursorTs === undefined ? Number(m.ts) <= latest : Number(m.ts) < latest));
        const page = within.slice(0, limit);
        const hasMore = within.length > limit;
        return {
          messages: page.map(messageResource),
          has_more: hasMore,
          pin_count: 0,
          ...(hasMore ? { response_metadata: { next_cursor: cursorOf('next_ts', page.at(-1)!.ts) } } : {}),
        };
      },
    },
    'chat.postMessage': {
      scope: 'chat:write',
      run: ({ params, user, grant }) => {
        const ch = ws.channel(params.channel);
        if (!ch) return { ok: false, error: 'channel_not_found' };
        const text = params.text ?? '';
        if (!text.trim()) return { ok: false, error: 'no_text' };
        if (text.length > MAX_TEXT) return { ok: false, error: 'msg_too_long' };
        if (ch.isArchived) return { ok: false, error: 'is_archived' };
        if (!ch.members.includes(user.id)) return { ok: false, error: 'not_in_channel' };
        const posted = ws.post(ch, user, text);
        state.record({ provider: 'slack', kind: 'slack.postMessage', account: grant.account, data: { channel: ch.id, channelName: ch.name, text, ts: posted.ts } });
        state.save();
        return { channel: ch.id, ts: posted.ts, message: { type: 'message', user: user.id, text, ts: posted.ts, team: SLACK_TEAM.id, bot_id: null } };
      },
    },
  };
}

export function slackApp(oauth: OAuthServer, state: ProviderState, ws: SlackWorkspace): Hono {
  const app = new Hono();
  const api = methods(ws, oauth, state);

  mountAuthorization(app, {
    oauth,
    profile: slackProfile,
    path: '/oauth/v2/authorize',
    publicPath: '/slack/oauth/v2/authorize',
    // Only user tokens are issued here, so bot scopes (`scope`) are granted to the user token as well.
    parse: (q: Params) => ({
      clientId: q.client_id,
      redirectUri: q.redirect_uri,
      scopes: [...splitScopes(q.user_scope, /,/), ...splitScopes(q.scope, /,/)],
      state: q.state,
      loginHint: q.login_hint,
      codeChallenge: q.code_challenge,
      codeChallengeMethod: q.code_challenge_method,
      includeGrantedScopes: false,
    }),
  });

  const tokenResponse = (c: Context, t: IssuedTokens) => {
    const user = ws.userByEmail(t.grant.account);
    return c.json(
      {
        ok: true,
        app_id: APP_ID,
        authed_user: { id: user?.id, scope: t.scopes.join(','), access_token: t.accessToken, token_type: 'user', refresh_token: t.refreshToken, expires_in: t.expiresIn },
        team: { id: SLACK_TEAM.id, name: SLACK_TEAM.name },
        enterprise: null,
        is_enterprise_install: false,
      },
      200,
      { 'cache-control': 'no-store' },
    );
  };

  app.post('/api/oauth.v2.access', async (c) => {
    let p: Params;
    try {
      p = await allParams(c);
    } catch {
      return c.json({ ok: false, error: 'invalid_arguments' });
    }
    const { clientId, clientSecret } = clientCredentials(c, p);
    const auth = oauth.authenticateClient(clientId, clientSecret);
    if ('error' in auth) return c.json({ ok: false, error: auth.error === 'unknown_client' ? 'invalid_client_id' : 'bad_client_secret' });
    if (p.grant_type === 'refresh_token') {
      const r = oauth.refresh(slackProfile, auth.client, p.refresh_token);
      return 'error' in r ? c.json({ ok: false, error: 'invalid_refresh_token' }) : tokenResponse(c, r);
    }
    if (p.grant_type !== undefined && p.grant_type !== 'authorization_code') return c.json({ ok: false, error: 'invalid_grant_type' });
    const r = oauth.redeemCode(slackProfile, auth.client, { code: p.code, redirectUri: p.redirect_uri, codeVerifier: p.code_verifier, redirectUriRequired: false });
    if ('error' in r) return c.json({ ok: false, error: r.error === 'redirect_uri_mismatch' ? 'bad_redirect_uri' : 'invalid_code' });
    return tokenResponse(c, r);
  });

  app.on(['GET', 'POST'], '/api/:method', async (c) => {
    const name = c.req.param('method');
    const method = Object.hasOwn(api, name) ? api[name] : undefined;
    if (!method) return c.json({ ok: false, error: 'unknown_method', req_method: name }, 404);
    let params: Params;
    try {
      params = await allParams(c);
    } catch {
      return c.json({ ok: false, error: 'invalid_json' });
    }
    const token = bearerToken(c) ?? params.token;
    if (!token) return c.json({ ok: false, error: 'not_authed' });
    const verified = oauth.verify('slack', token);
    if (!verified.ok) {
      const error = verified.reason === 'expired' ? 'token_expired' : verified.reason === 'revoked' ? 'token_revoked' : 'invalid_auth';
      return c.json({ ok: false, error });
    }
    const { grant } = verified;
    const user = ws.userByEmail(grant.account);
    if (!user) return c.json({ ok: false, error: 'account_inactive' });
    const headers = { 'x-oauth-scopes': grant.scopes.join(','), 'x-accepted-oauth-scopes': method.scope ?? '' };
    if (method.scope && !grant.scopes.includes(method.scope)) {
      return c.json({ ok: false, error: 'missing_scope', needed: method.scope, provided: grant.scopes.join(',') }, 200, headers);
    }
    // A method that fails says `ok: false` itself, which wins over the `ok: true` before it.
    return c.json({ ok: true, ...method.run({ params, grant, user, token }) }, 200, headers);
  });

  return app;
}
