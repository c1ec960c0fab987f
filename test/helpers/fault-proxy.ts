/**
 * A tiny TCP proxy on loopback that can make the service behind it unavailable or slow, for fault tests:
 * `pass` forwards bytes both ways; `refuse` accepts and resets the connection at once (the service is down);
 * `hang` accepts and never answers (a black hole: the caller's own timeout must fire). Switching mode drops the
 * connections that are open, like a network blip.
 */
import net from 'node:net';

export type FaultMode = 'pass' | 'refuse' | 'hang';

export interface FaultProxy {
  url: string;
  port: number;
  /** Where `pass` forwards to (may be set after the proxy started, once the service's port is known). */
  target: { host: string; port: number } | undefined;
  mode: FaultMode;
  set(mode: FaultMode): void;
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

export async function startFaultProxy(target?: { host: string; port: number }): Promise<FaultProxy> {
  const open = new Set<net.Socket>();
  const proxy: FaultProxy = {
    url: '',
    port: 0,
    target,
    mode: 'pass',
    connections: 0,
    set(mode) {
      proxy.mode = mode;
      for (const s of open) s.destroy();
      open.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    proxy.connections++;
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => {});
    if (proxy.mode === 'refuse' || !proxy.target) return void client.resetAndDestroy();
    if (proxy.mode === 'hang') return; // read nothing, answer nothing
    const upstream = net.connect(proxy.target.port, proxy.target.host);
    open.add(upstream);
    upstream.on('close', () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  proxy.port = (server.address() as net.AddressInfo).port;
  proxy.url = `http://localhost:${proxy.port}`;
  return proxy;
}
