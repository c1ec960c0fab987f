/**
 * `web-ext lint` (Mozilla's addons-linter, offline) on the Firefox build. Fails on any error, and on any warning
 * that is not one of the reviewed library patterns below: each is matched by its code and by the source text at
 * the reported position, so new code of ours that trips the same rule still fails.
 *
 *   tsx scripts/lint-firefox.ts [dir]     (default .output/firefox-mv3; build it with `npm run build:firefox`)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface LintMessage {
  code: string;
  message: string;
  description?: string;
  file?: string;
  line?: number;
  column?: number;
}

interface Reviewed {
  code: string;
  /** Must occur in the source within 300 characters of the reported position. */
  near: RegExp;
  why: string;
}

/** Warnings in third-party code we ship, checked by hand (see docs/permissions.md, "Firefox review notes"). */
export const REVIEWED_WARNINGS: Reviewed[] = [
  {
    code: 'DANGEROUS_EVAL',
    near: /try\{return Function\(``\),!0\}catch\{return!1\}/,
    why: "zod's probe of whether eval is allowed (it is not under the MV3 CSP, so zod uses its non-JIT path); no string is evaluated",
  },
  {
    code: 'UNSAFE_VAR_ASSIGNMENT',
    near: /__html/,
    why: "react-dom's dangerouslySetInnerHTML support; Deputy never uses dangerouslySetInnerHTML (Markdown renders without raw HTML)",
  },
  {
    code: 'UNSAFE_VAR_ASSIGNMENT',
    near: /`&`\+\w+\+`;`;\w+\.innerHTML=\w+;let \w+=\w+\.textContent/,
    why: 'decode-named-character-reference (micromark) decodes one "&name;" entity in a detached <i> element',
  },
  {
    code: 'UNSAFE_VAR_ASSIGNMENT',
    near: /\.document\(\)\.write\(/,
    why: "micromark's parser API (`document().write(chunks)`), not DOM document.write",
  },
  {
    code: 'UNSAFE_VAR_ASSIGNMENT',
    near: /_attempts|_isSingleImage|Article content after paging/,
    why: "@mozilla/readability moving nodes between elements of the page copy it is parsing; the result is read as text only",
  },
];

function sourceAround(dir: string, m: LintMessage): string {
  if (!m.file || !m.line) return '';
  try {
    const line = fs.readFileSync(path.join(dir, m.file), 'utf8').split('\n')[m.line - 1] ?? '';
    const col = m.column ?? 0;
    return line.slice(Math.max(0, col - 300), col + 300);
  } catch {
    return '';
  }
}

export interface LintResult {
  errors: LintMessage[];
  /** Warnings and notices that match no reviewed pattern. */
  unreviewed: LintMessage[];
  reviewed: Array<LintMessage & { why: string }>;
}

export function lintFirefox(dir: string): LintResult {
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw new Error(`No Firefox build at ${dir}: run \`npm run build:firefox\` first.`);
  const bin = path.resolve(import.meta.dirname, '../node_modules/.bin/web-ext');
  const r = spawnSync(bin, ['lint', '--source-dir', dir, '--output', 'json', '--no-input'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const start = r.stdout.indexOf('{');
  if (start < 0) throw new Error(`web-ext lint printed no report:\n${r.stdout}\n${r.stderr}`);
  const report = JSON.parse(r.stdout.slice(start)) as { errors: LintMessage[]; warnings: LintMessage[]; notices: LintMessage[] };
  const result: LintResult = { errors: report.errors, unreviewed: [], reviewed: [] };
  for (const m of [...report.warnings, ...report.notices]) {
    const text = sourceAround(dir, m);
    const known = REVIEWED_WARNINGS.find((w) => w.code === m.code && w.near.test(text));
    if (known) result.reviewed.push({ ...m, why: known.why });
    else result.unreviewed.push(m);
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = path.resolve(process.argv[2] ?? '.output/firefox-mv3');
  const r = lintFirefox(dir);
  for (const m of r.reviewed) console.log(`reviewed  ${m.code} ${m.file}:${m.line}:${m.column}  ${m.why}`);
  for (const m of [...r.errors, ...r.unreviewed]) console.log(`PROBLEM   ${m.code} ${m.file ?? ''}:${m.line ?? ''}  ${m.message}`);
  console.log(JSON.stringify({ errors: r.errors.length, unreviewedWarnings: r.unreviewed.length, reviewedWarnings: r.reviewed.length }));
  process.exit(r.errors.length || r.unreviewed.length ? 1 : 0);
}
