import { createParser } from 'eventsource-parser';
import { RunEvent } from '../../lib/protocol';

export interface ParsedSse {
  id: string | undefined;
  event: string | undefined;
  data: RunEvent;
}

/**
 * Reads an SSE response frame by frame, validating each against the shared RunEvent schema. Stops at the end of the
 * stream, or as soon as `until` returns true (then drops the connection, like a client that went away).
 */
export async function readRunEvents(res: Response, until?: (e: RunEvent) => boolean): Promise<ParsedSse[]> {
  const out: ParsedSse[] = [];
  let stop = false;
  const parser = createParser({
    onEvent: (e) => {
      if (stop) return;
      const data = RunEvent.parse(JSON.parse(e.data));
      out.push({ id: e.id, event: e.event, data });
      if (until?.(data)) stop = true;
    },
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  while (!stop) {
    const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  await reader.cancel().catch(() => {});
  return out;
}
