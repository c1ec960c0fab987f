/** The knowledge base, assembled for the backend: FGA client, embedder, retriever (with its per-user cache), tools. */
import type { Kysely } from 'kysely';
import type { BackendConfig } from '../config';
import type { Database } from '../store/schema';
import { knowledgeTools } from '../agent/tools/knowledge';
import { Directory } from './directory';
import { createEmbedder } from './embedder';
import { FgaClient } from './fga-client';
import { connectFga } from './fga-setup';
import { KnowledgeBase } from './knowledge-base';
import { AllowedDocumentsCache, AuthorizedRetriever } from './retriever';

export async function startKnowledge(db: Kysely<Database>, config: BackendConfig, log: (line: string) => void = () => {}) {
  const settings = config.fga;
  if (!settings.apiUrl) throw new Error('FGA_API_URL is not set.');
  const apiUrl = settings.apiUrl;
  const fga = settings.storeId ? new FgaClient({ ...settings, apiUrl, storeId: settings.storeId }) : (await connectFga({ ...settings, apiUrl })).fga;
  const embedder = createEmbedder(config.embeddings);
  const cache = new AllowedDocumentsCache();
  const kb = new KnowledgeBase({ db, fga, embedder, directory: new Directory(db), cache });
  const retriever = new AuthorizedRetriever({ documents: kb.documents, fga, embedder, cache });
  log(`knowledge base: FGA store ${fga.storeId} at ${apiUrl}, embedder ${embedder.id}`);
  return { kb, retriever, fga, embedder, tools: knowledgeTools(retriever) };
}

export type Knowledge = Awaited<ReturnType<typeof startKnowledge>>;
