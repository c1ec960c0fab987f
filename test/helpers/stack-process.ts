/**
 * The whole local stack (`scripts/stack.ts`) as a child process, for tests that kill it (SIGKILL) and start it again
 * on the same data directory and the same ports (so tokens, URLs and keys stay valid across the restart).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface StackProcess {
  /** The URLs the running process printed; refreshed by `start()`. */
  urls: { backendUrl: string; idpUrl: string };
  /** Starts the process (again), resolving once it printed its URLs. */
  start(): Promise<void>;
  /** SIGKILL, resolving once the process has exited (no-op if it is not running). */
  kill(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, 'localhost', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

/** Picks four free ports once and returns a handle; call `start()` to run the process. */
export async function stackProcess(dataDir: string, env: Record<string, string> = {}): Promise<StackProcess> {
  const ports = { PORT: await freePort(), IDP_PORT: await freePort(), MODEL_PORT: await freePort(), PROJECTS_PORT: await freePort() };
  let child: ChildProcess | undefined;
  const handle: StackProcess = {
    urls: { backendUrl: '', idpUrl: '' },
    async start() {
      const proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/stack.ts')], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, ...env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      let out = '';
      let err = '';
      proc.stderr!.on('data', (d) => (err += d));
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`stack did not start: ${out}`)), 60_000);
        proc.stdout!.on('data', (d) => {
          out += d;
          const line = out.split('\n').find((l) => l.includes('backendUrl'));
          if (line) {
            clearTimeout(t);
            handle.urls = JSON.parse(line);
            resolve();
          }
        });
        proc.on('exit', (code) => reject(new Error(`stack exited with ${code}: ${err}`)));
      });
    },
    kill: () =>
      new Promise<void>((resolve) => {
        if (!child || child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
  return handle;
}
