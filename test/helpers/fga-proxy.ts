/**
 * A loopback HTTP proxy in front of the FGA server, to make FGA unreachable or slow on demand (F2). `up` forwards,
 * `down` drops every connection, `slow` holds each request for `delayMs` before forwarding.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxyMode = { kind: 'up' } | { kind: 'down' } | { kind: 'slow'; delayMs: number };

export interface FgaProxy {
  url: string;
  mode: ProxyMode;
  /** Requests seen since the last reset, by path. */
  requests: string[];
  close(): Promise<void>;
}

export async function startFgaProxy(target: string): Promise<FgaProxy> {
  const upstream = new URL(target);
  const state: FgaProxy = { url: '', mode: { kind: 'up' }, requests: [], close: async () => {} };
  const server = http.createServer((req, res) => {
    state.requests.push(`${req.method} ${req.url}`);
    const mode = state.mode;
    if (mode.kind === 'down') {
      req.socket.destroy();
      return;
    }
    const forward = () => {
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      req.pipe(out);
    };
    if (mode.kind === 'slow') {
      const t = setTimeout(forward, mode.delayMs);
      res.on('close', () => clearTimeout(t));
    } else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
