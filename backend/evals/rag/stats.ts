/** Nearest-rank percentiles and small summaries for benchmark JSON. */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

export function latencySummary(ms: number[]) {
  return { p50: round(percentile(ms, 50)), p95: round(percentile(ms, 95)), p99: round(percentile(ms, 99)), max: round(Math.max(...ms)), mean: round(ms.reduce((a, b) => a + b, 0) / ms.length) };
}

export function countSummary(xs: number[]) {
  return { mean: round(xs.reduce((a, b) => a + b, 0) / xs.length), p50: percentile(xs, 50), p95: percentile(xs, 95), max: Math.max(...xs) };
}
