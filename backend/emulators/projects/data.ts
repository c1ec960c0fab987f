/** The Projects API's data: projects with members and tasks, persisted as one JSON file so restarts lose nothing. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface Task {
  id: string;
  title: string;
  done: boolean;
  due?: string;
  createdAt: string;
  completedAt?: string;
}

export interface Project {
  id: string;
  name: string;
  description: string;
  members: string[];
  tasks: Task[];
  createdAt: string;
}

interface Snapshot {
  projects: Project[];
  /** Idempotency-Key → the stored response of the first request that used it (per user). */
  idempotency: Record<string, { status: number; body: unknown }>;
}

function seed(members: { alice?: string; bob?: string }): Project[] {
  const now = '2026-11-01T09:00:00.000Z';
  const task = (title: string, done = false, due?: string): Task => ({ id: randomUUID(), title, done, due, createdAt: now, ...(done ? { completedAt: now } : {}) });
  const both = [members.alice, members.bob].filter((m): m is string => Boolean(m));
  return [
    {
      id: 'website-relaunch',
      name: 'Website relaunch',
      description: 'New marketing site on the headless CMS, launching before the end of the quarter.',
      members: both,
      tasks: [
        task('Migrate blog posts to the new CMS'),
        task('Review the new landing page copy', false, '2026-11-28'),
        task('Set up redirects from old URLs'),
        task('Pick the hosting provider', true),
      ],
      createdAt: now,
    },
    {
      id: 'security-audit',
      name: 'Security audit Q4',
      description: 'External penetration test and remediation of findings.',
      members: members.alice ? [members.alice] : [],
      tasks: [task('Send scope document to the auditors', true), task('Fix session fixation finding', false, '2026-12-05'), task('Rotate API signing keys')],
      createdAt: now,
    },
    {
      id: 'mobile-app',
      name: 'Mobile app beta',
      description: 'TestFlight beta of the companion app.',
      members: members.bob ? [members.bob] : [],
      tasks: [task('Invite 50 beta testers'), task('Crash reporting dashboard', true)],
      createdAt: now,
    },
  ];
}

export class ProjectData {
  private state: Snapshot;
  constructor(private readonly file: string, members: { alice?: string; bob?: string }) {
    if (fs.existsSync(file)) {
      this.state = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
    } else {
      this.state = { projects: seed(members), idempotency: {} };
      this.save();
    }
  }

  private save() {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.state, null, 2));
    fs.renameSync(tmp, this.file);
  }

  projectsOf(sub: string): Project[] {
    return this.state.projects.filter((p) => p.members.includes(sub));
  }

  project(sub: string, id: string): Project | undefined {
    return this.projectsOf(sub).find((p) => p.id === id);
  }

  /** Runs a mutation once per (user, Idempotency-Key): a replay gets the first response back and changes nothing. */
  once(sub: string, key: string | undefined, mutate: () => { status: number; body: unknown }): { status: number; body: unknown; replayed: boolean } {
    const k = key ? `${sub}:${key}` : undefined;
    if (k && this.state.idempotency[k]) return { ...this.state.idempotency[k], replayed: true };
    const result = mutate();
    if (k && result.status < 300) this.state.idempotency[k] = result;
    this.save();
    return { ...result, replayed: false };
  }

  addTask(project: Project, title: string, due?: string): Task {
    const t: Task = { id: randomUUID(), title, done: false, due, createdAt: new Date().toISOString() };
    project.tasks.push(t);
    return t;
  }

  deleteProject(id: string) {
    this.state.projects = this.state.projects.filter((p) => p.id !== id);
  }
}
