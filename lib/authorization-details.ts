/**
 * RFC 9396 authorization details: the types registered per API, and how a detail reads to a human.
 *
 * Every side-effecting tool describes a call as `[{ type, ...exact validated arguments }]`. The IdP refuses a CIBA
 * request whose detail type is not registered for the API the approved token is for, or that carries a field the
 * type does not define (`invalid_authorization_details`, D9). The same table is what `auth0:bootstrap` registers on
 * a real tenant, and what the approvals page and the side panel render.
 */
import { DEFAULT_API_AUDIENCE, PROJECTS_AUDIENCE } from './defaults';

export interface AuthorizationDetail {
  type: string;
  [field: string]: unknown;
}

/** type → the fields it may carry (besides `type`), per API audience. */
export const REGISTERED_DETAIL_TYPES: Record<string, Record<string, readonly string[]>> = {
  [DEFAULT_API_AUDIENCE]: {
    email_send: ['to', 'cc', 'subject', 'body'],
    slack_message_post: ['channelId', 'text'],
    calendar_event_create: ['title', 'date', 'start', 'durationMinutes', 'attendees', 'location', 'description'],
    github_issue_create: ['repo', 'title', 'body', 'labels'],
    /** Sent alongside a call whose data goes somewhere the user did not name themselves (the destination rule). */
    new_destination: ['kind', 'value'],
  },
  [PROJECTS_AUDIENCE]: {
    project_task: ['action', 'projectId', 'title', 'due', 'taskId'],
    project_delete: ['projectId'],
    project_delete_all: [],
  },
};

/** Why these details cannot be approved for `audience`, or undefined when every detail is a registered type with known fields. */
export function invalidDetailsReason(details: unknown, audience: string, registry = REGISTERED_DETAIL_TYPES): string | undefined {
  if (!Array.isArray(details) || details.length === 0) return 'authorization_details must be a non-empty JSON array';
  if (details.length > 10) return 'at most 10 authorization_details';
  const types = registry[audience] ?? {};
  for (const d of details) {
    if (!d || typeof d !== 'object' || Array.isArray(d)) return 'each authorization detail must be an object';
    const { type, ...fields } = d as Record<string, unknown>;
    if (typeof type !== 'string' || !type) return 'each authorization detail needs a type';
    const known = types[type];
    if (!known) return `authorization_details type "${type}" is not registered for ${audience}`;
    const extra = Object.keys(fields).filter((f) => !known.includes(f));
    if (extra.length) return `authorization_details type "${type}" has no field ${extra.map((f) => `"${f}"`).join(', ')}`;
  }
  return undefined;
}

const TYPE_TITLES: Record<string, string> = {
  email_send: 'Send an e-mail',
  slack_message_post: 'Post a Slack message',
  calendar_event_create: 'Create a calendar event',
  github_issue_create: 'Create a GitHub issue',
  new_destination: 'A destination you did not name yourself',
  project_task: 'Change a project task',
  project_delete: 'Delete a project',
  project_delete_all: 'Delete all your projects',
};

const FIELD_LABELS: Record<string, string> = {
  to: 'To',
  cc: 'Cc',
  subject: 'Subject',
  body: 'Message',
  text: 'Message',
  channelId: 'Channel',
  title: 'Title',
  date: 'Date',
  start: 'Start (UTC)',
  durationMinutes: 'Minutes',
  attendees: 'Invitees',
  location: 'Location',
  description: 'Description',
  repo: 'Repository',
  kind: 'Kind',
  value: 'Sends to',
  labels: 'Labels',
  action: 'Action',
  projectId: 'Project',
  taskId: 'Task',
  due: 'Due',
};

/** A detail as a title and label/value rows, every field shown (a human approves exactly what will run). */
export function renderDetail(detail: AuthorizationDetail): { title: string; rows: Array<{ label: string; value: string }> } {
  const { type, ...fields } = detail;
  const rows = Object.entries(fields).map(([k, v]) => ({
    label: FIELD_LABELS[k] ?? k,
    value: Array.isArray(v) ? v.map(String).join(', ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v),
  }));
  return { title: TYPE_TITLES[type] ?? type, rows };
}
