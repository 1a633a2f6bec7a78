/**
 * Reads Prometheus text exposition (GET /metrics) in tests and benchmarks: the sum of a metric's
 * series, optionally only those with a given label value. 0 when the metric is absent (a counter
 * never incremented is not exported).
 */
export function sumSeries(text: string, name: string, label?: { name: string; value: string }): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name} `) && !line.startsWith(`${name}{`)) continue;
    if (label && !line.includes(`${label.name}="${label.value}"`)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
