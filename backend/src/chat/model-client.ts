/** The only path to a model: the `openai` SDK, pointed at OpenAI, any compatible server, or the offline model. */
import OpenAI from 'openai';
import type { BackendConfig } from '../config';

export function createModelClient(model: BackendConfig['model']): OpenAI {
  return new OpenAI({ apiKey: model.apiKey, baseURL: model.baseURL, maxRetries: 1, timeout: 60_000 });
}
