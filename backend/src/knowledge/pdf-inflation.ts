/**
 * How much a PDF's streams expand when decoded, measured before PDF.js reads it. PDF.js decodes content streams in
 * our process without any limit, and a 200 KB Flate stream of spaces decodes to 200 MB (half a gigabyte of memory,
 * seconds of CPU): the 7.5 MB an upload may carry would take the backend down.
 *
 * Dictionaries are not parsed (their /Filter and /Length are the attacker's to disguise): after every `stream`
 * keyword the bytes are inflated as zlib data if they are zlib data (also behind an ASCIIHex or ASCII85 layer, and
 * again while the output is itself zlib data), with zlib's `maxOutputLength`, until the whole file is over budget.
 * zlib stops at the end of its own data, so a fake `endstream` inside a stream hides nothing. Filters this cannot
 * measure that expand by orders of magnitude (LZW, run-length) make the file refused.
 */
import zlib from 'node:zlib';

/** Decoded bytes a saved PDF may hold in all its zlib streams (text, fonts, images) together. */
export const MAX_PDF_DECODED_BYTES = 128 * 1024 * 1024;
/** More stream keywords than this in one upload is not a document anyone writes; it only makes this scan long. */
export const MAX_PDF_STREAMS = 50_000;
/** ASCIIHex / ASCII85 text decoded while looking for zlib data under it. */
const MAX_TEXT_LAYER_BYTES = 64 * 1024 * 1024;

export type InflationVerdict = { ok: true; decodedBytes: number } | { ok: false; reason: 'too_large' | 'unsupported_filter'; decodedBytes: number };

const STREAM = /(?<!end)stream[ \t]*(?:\r\n|\r|\n)?/g;
/** LZW and run-length decoders, by full or abbreviated name (names may hide letters as #xx escapes). */
const UNMEASURED_FILTERS = new Set(['LZWDecode', 'LZW', 'RunLengthDecode', 'RL']);

export function measurePdfInflation(bytes: Uint8Array, budget = MAX_PDF_DECODED_BYTES): InflationVerdict {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin = buf.toString('latin1');
  for (const m of latin.matchAll(/\/([^\s/<>[\]()%{}]+)/g)) {
    const name = m[1]!.includes('#') ? m[1]!.replace(/#([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) : m[1]!;
    if (UNMEASURED_FILTERS.has(name)) return { ok: false, reason: 'unsupported_filter', decodedBytes: 0 };
  }
  let decodedBytes = 0;
  let streams = 0;
  const spent = { textLayers: 0 };
  for (const m of latin.matchAll(STREAM)) {
    if (++streams > MAX_PDF_STREAMS) return { ok: false, reason: 'too_large', decodedBytes };
    let data: Buffer | 'over' | undefined = zlibLayer(buf.subarray(m.index! + m[0].length), spent);
    // Nested Flate layers ([/FlateDecode /FlateDecode]) multiply the ratio: keep inflating while it is zlib data.
    while (data) {
      const out: Buffer | 'over' = data === 'over' ? 'over' : inflateAtMost(data, budget - decodedBytes);
      if (out === 'over') return { ok: false, reason: 'too_large', decodedBytes: budget };
      decodedBytes += out.length;
      data = zlibLayer(out, spent);
    }
  }
  return { ok: true, decodedBytes };
}

/** The zlib data at the start of `data`: as it is, or under an ASCIIHex / ASCII85 layer; undefined if none. */
function zlibLayer(data: Buffer, spent: { textLayers: number }): Buffer | 'over' | undefined {
  if (isZlibHeader(data[0], data[1])) return data;
  // A text layer is decoded in full only when its first bytes decode to a zlib header, and only within a budget.
  const head = data.subarray(0, 32).toString('latin1').replace(/\s+/g, '');
  const decodeAll = (end: number, decode: (b: Buffer) => Buffer) => {
    const part = data.subarray(0, end === -1 ? undefined : end);
    spent.textLayers += part.length;
    return spent.textLayers > MAX_TEXT_LAYER_BYTES ? 'over' : decode(part);
  };
  const hexHead = Buffer.from(head.slice(0, 4), 'hex');
  if (/^[0-9A-Fa-f]{4}/.test(head) && isZlibHeader(hexHead[0], hexHead[1])) return decodeAll(data.indexOf('>'), (b) => Buffer.from(b.toString('latin1').replace(/[^0-9A-Fa-f]/g, ''), 'hex'));
  const a85Head = ascii85(Buffer.from(head.replace(/^<~/, '').slice(0, 5), 'latin1'));
  if (isZlibHeader(a85Head[0], a85Head[1])) return decodeAll(data.indexOf('~>'), ascii85);
  return undefined;
}

const isZlibHeader = (cmf: number | undefined, flg: number | undefined) =>
  cmf !== undefined && flg !== undefined && (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && (cmf * 256 + flg) % 31 === 0;

/** Inflates at most `max` bytes; 'over' when the stream holds more. Damaged data counts what decoded before the damage. */
function inflateAtMost(data: Buffer, max: number): Buffer | 'over' {
  if (max <= 0) return 'over';
  try {
    return zlib.inflateSync(data, { maxOutputLength: max, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch (err) {
    if (err instanceof RangeError) return 'over';
    return Buffer.alloc(0);
  }
}

function ascii85(data: Buffer): Buffer {
  const s = data.toString('latin1').replace(/\s+/g, '').replace(/^<~/, '');
  const out: number[] = [];
  let group: number[] = [];
  for (const ch of s) {
    if (ch === 'z' && group.length === 0) {
      out.push(0, 0, 0, 0);
      continue;
    }
    const c = ch.charCodeAt(0) - 33;
    if (c < 0 || c > 84) break;
    group.push(c);
    if (group.length === 5) {
      const n = group.reduce((a, d) => a * 85 + d, 0);
      out.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
      group = [];
    }
  }
  if (group.length > 1) {
    const k = group.length;
    while (group.length < 5) group.push(84);
    const n = group.reduce((a, d) => a * 85 + d, 0);
    out.push(...[(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].slice(0, k - 1));
  }
  return Buffer.from(out);
}
