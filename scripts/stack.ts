/** `npm run dev:stack`: only the local stack (IdP, model, backend), for working on the extension with `wxt dev`. */
import path from 'node:path';
import { startStack } from '../backend/src/stack';

const dataDir = path.resolve(process.env.DATA_DIR ?? '.deputy');
const stack = await startStack({ dataDir, env: process.env, log: (l) => console.error(l) });
console.log(JSON.stringify({ backendUrl: stack.backendUrl, idpUrl: stack.idpUrl, modelUrl: stack.modelUrl }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stack.close().then(() => process.exit(0)));
