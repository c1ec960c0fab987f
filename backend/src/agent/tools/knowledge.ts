/**
 * `search_knowledge_base`: the user's saved pages and files, filtered by FGA before any text is read (see
 * knowledge/retriever.ts). Results are content anyone could have written, so they are untrusted: once they are in a
 * run, side-effecting calls need the user's approval.
 */
import { z } from 'zod';
import type { Citation } from '../../../../lib/protocol';
import { RetrievalUnavailableError, type Retriever } from '../../knowledge/retriever';
import { defineTool, toBindingMessage, type ToolDeclaration } from '../tool-declaration';

const SNIPPET_CHARS = 1_200;

export interface KnowledgeSearchResult {
  documentId: string;
  title: string;
  url?: string;
  snippet: string;
}

export function knowledgeTools(retriever: Retriever): ToolDeclaration[] {
  return [
    defineTool({
      name: 'search_knowledge_base',
      description:
        "Search the user's knowledge base (pages they saved, files they uploaded, documents shared with them) and return the most relevant passages with their titles and links. Use it for questions about their notes, documents or anything they saved.",
      input: z.strictObject({
        query: z.string().trim().min(1).max(500).describe('What to look for, in the user’s words.'),
        k: z.int().min(1).max(20).optional().describe('How many passages to return (default 6).'),
      }),
      tier: 'read',
      requiredScopes: ['chat'],
      sideEffect: false,
      resultTrust: 'untrusted',
      describe: (args) => ({
        summary: `Search your knowledge base for ${args.query}`,
        bindingMessage: toBindingMessage(`Search knowledge base: ${args.query}`),
        authorizationDetails: [{ type: 'knowledge_search', query: args.query }],
      }),
      outcome: (data) => {
        const n = (data as { results?: unknown[] }).results?.length ?? 0;
        return n === 0 ? 'Nothing found' : `${n} passage${n === 1 ? '' : 's'}`;
      },
      citations: (data) => citationsFrom(data),
      execute: async ({ query, k }, ctx) => {
        try {
          const { hits } = await retriever.retrieve(ctx.sub, query, { k: k ?? 6 });
          const results: KnowledgeSearchResult[] = hits.map((h) => ({
            documentId: h.documentId,
            title: h.title,
            ...(h.url ? { url: h.url } : {}),
            snippet: h.text.length > SNIPPET_CHARS ? `${h.text.slice(0, SNIPPET_CHARS)}…` : h.text,
          }));
          return { ok: true, data: { results } };
        } catch (err) {
          if (err instanceof RetrievalUnavailableError) return { ok: false, error: { code: err.code, message: err.message } };
          throw err;
        }
      },
    }),
  ];
}

/** One citation per document, in the order the results ranked them, with its best passage as the snippet. */
export function citationsFrom(data: unknown): Citation[] {
  const results = (data as { results?: KnowledgeSearchResult[] } | undefined)?.results ?? [];
  const seen = new Map<string, Citation>();
  for (const r of results) {
    if (!seen.has(r.documentId)) seen.set(r.documentId, { documentId: r.documentId, title: r.title, ...(r.url ? { url: r.url } : {}), snippet: r.snippet.slice(0, 300) });
  }
  return [...seen.values()];
}
