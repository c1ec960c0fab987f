/**
 * A small web page served on loopback (a free port on 127.0.0.1) for the knowledge-base story: alice saves it, asks
 * about it, shares it with bob. Its facts are made up and distinctive, so an answer that contains them can only come
 * from the saved document, and one that does not, did not see it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const ORBIT_PAGE = {
  path: '/handbook/project-orbit.html',
  title: 'Project Orbit launch handbook',
  /** Facts only this page knows. */
  codeName: 'HELIOTROPE-42',
  launchDate: 'March 3',
  /** A question the offline model answers from the knowledge base. */
  question: 'What does my knowledge base say about the Project Orbit code name?',
};

export const ORBIT_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${ORBIT_PAGE.title}</title></head>
<body>
<header><nav><a href="/">Intranet</a> · <a href="/handbook/">Handbook</a></nav></header>
<main>
<article>
<h1>${ORBIT_PAGE.title}</h1>
<p>Project Orbit is the internal name of the satellite telemetry dashboard that ships to customers this spring.
The code name for the Project Orbit launch is ${ORBIT_PAGE.codeName}; use it in every ticket and channel about the launch.</p>
<h2>Dates</h2>
<p>The public launch of Project Orbit is on ${ORBIT_PAGE.launchDate}. The release freeze starts one week earlier, and the
go/no-go review is held two days before the launch by the release captain, Priya Raman.</p>
<h2>Rollout</h2>
<p>Project Orbit rolls out in three waves: internal staff first, then ten design partners, then every customer.
Each wave needs the error budget of the previous one to be intact. Rollback is a feature flag named orbit_enabled.</p>
<h2>Contacts</h2>
<p>Questions about Project Orbit go to the #orbit-launch channel. Security reviews are booked with the platform security team.</p>
</article>
</main>
<footer>Internal handbook · do not forward</footer>
</body>
</html>
`;

export interface PageServer {
  origin: string;
  /** The handbook page's URL. */
  url: string;
  close(): Promise<void>;
}

export async function servePages(pages: Record<string, string> = { [ORBIT_PAGE.path]: ORBIT_HTML }): Promise<PageServer> {
  const server: Server = createServer((req, res) => {
    const body = pages[new URL(req.url ?? '/', 'http://x').pathname];
    if (body === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: origin + ORBIT_PAGE.path,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
