/**
 * `npm start`: the whole product on one machine. Starts the local stack (emulators replace every real service
 * that is not configured), builds the extension against it, and opens Chromium with the extension loaded when
 * there is a display. Without one it prints how to load the extension by hand.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startStack } from '../backend/src/stack';
import { EXTENSION_ID } from '../lib/defaults';

const root = path.resolve(import.meta.dirname, '..');
const dataDir = path.resolve(process.env.DATA_DIR ?? path.join(root, '.deputy'));

const stack = await startStack({ dataDir, env: process.env, log: (l) => console.error(l) });

console.log('Building the extension…');
const build = spawnSync('npx', ['wxt', 'build'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, WXT_BACKEND_URL: stack.backendUrl },
});
if (build.status !== 0) {
  console.error('The extension build failed (see above).');
  await stack.close();
  process.exit(1);
}
const extensionDir = path.join(root, '.output', 'chrome-mv3');

const lines = [
  '',
  'Deputy is running.',
  `  backend        ${stack.backendUrl}`,
  stack.idpUrl ? `  identity (IdP) ${stack.idpUrl}   (Auth0-compatible emulator; demo users at ${stack.idpUrl}/demo-users)` : '  identity       AUTH0_DOMAIN from the environment',
  stack.modelUrl ? `  model          ${stack.modelUrl}   (offline, deterministic)` : '  model          OPENAI_* from the environment',
  stack.projectsUrl ? `  projects API   ${stack.projectsUrl}   (demo first-party API the agent acts on)` : '  projects API   PROJECTS_API_URL from the environment',
  stack.providersUrl ? `  providers      ${stack.providersUrl}   (Google, Slack and GitHub emulators; sent items at ${stack.providersUrl}/_emulator/outbox)` : '  providers      the real Google, Slack and GitHub APIs',
  `  authorization  ${stack.fgaUrl}   (${process.env.FGA_API_URL ? 'FGA_API_URL' : 'OpenFGA-compatible emulator'}; store ${stack.fgaStoreId})`,
  `  data           ${dataDir}`,
  `  extension      ${extensionDir}   (id ${EXTENSION_ID})`,
  ...(stack.users.length
    ? ['', 'Demo users:', ...stack.users.map((u) => `  ${u.email.padEnd(22)} password ${u.password.padEnd(16)} ${u.name}`)]
    : []),
  '',
];
console.log(lines.join('\n'));

const chromium = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && fs.existsSync(p));
const hasDisplay = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
if (chromium && hasDisplay) {
  console.log('Opening Chromium with Deputy loaded. Click the Deputy toolbar button to open the side panel.');
  const browser = spawn(
    chromium,
    [
      `--user-data-dir=${path.join(dataDir, 'chromium-profile')}`,
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      '--no-first-run',
      `chrome-extension://${EXTENSION_ID}/sidepanel.html`,
    ],
    { stdio: 'ignore', detached: false },
  );
  browser.on('exit', () => console.log('Chromium closed; the stack keeps running. Ctrl+C stops it.'));
} else {
  console.log(
    [
      'No display (or no Chromium) found, so no browser was opened. To use Deputy:',
      '  1. Open chrome://extensions in Chromium, turn on Developer mode.',
      `  2. "Load unpacked" → ${extensionDir}`,
      '  3. Click the Deputy toolbar button to open the side panel, then Sign in with a demo user above.',
      '  (Branded Google Chrome 137+ ignores --load-extension but "Load unpacked" works.)',
    ].join('\n'),
  );
}
console.log('\nCtrl+C stops everything.');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    void stack.close().then(() => process.exit(0));
  });
}
