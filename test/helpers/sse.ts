import { createParser } from 'eventsource-parser';
import { RunEvent } from '../../lib/protocol';

export interface ParsedSse {
  id: string | undefined;
  event: string | undefined;
  data: RunEvent;
}

/** Reads a whole SSE response and validates every frame against the shared RunEvent schema. */
export async function readRunEvents(res: Response): Promise<ParsedSse[]> {
  const out: ParsedSse[] = [];
  const parser = createParser({
    onEvent: (e) => out.push({ id: e.id, event: e.event, data: RunEvent.parse(JSON.parse(e.data)) }),
  });
  parser.feed(await res.text());
  return out;
}
