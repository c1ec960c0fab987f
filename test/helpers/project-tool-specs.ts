/** The real Projects tool declarations, as the model is shown them: model tests plan against exactly these. */
import { projectTools } from '../../backend/src/agent/tools/projects';
import { toOpenAiTools } from '../../backend/src/agent/tool-declaration';

export const PROJECT_TOOL_SPECS = toOpenAiTools(projectTools('http://projects.invalid'));

/** A hand-written OpenAI function tool, for tools that do not exist in the product (yet). */
export const functionTool = (name: string, description: string, properties: Record<string, object> = {}, required: string[] = []) => ({
  type: 'function' as const,
  function: { name, description, parameters: { type: 'object', properties, required, additionalProperties: false } },
});
