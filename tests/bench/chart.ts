/**
 * The Performance chart (issue #14): p99 latency and server CPU per delivery by load scenario,
 * one bar per server, as a self-contained SVG (no fonts or scripts fetched). run.ts writes it
 * beside each run's JSON, and over tests/bench/performance.svg (the README's copy) when a run
 * covered every load scenario with the four default servers. From a saved run:
 *
 *   npx tsx tests/bench/chart.ts tests/bench/results/bench-….json [out.svg]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerName } from './peers/PeerServer';
import type { ScenarioResult } from './scenario';

export const CHART_MEASURES = [
  { measure: 'propagation latency p99', title: 'p99 propagation latency (ms), lower is better', unit: 'ms' },
  { measure: 'server CPU per delivery', title: 'server CPU per delivery (µs), lower is better', unit: 'µs' },
] as const;

const COLOURS: Record<PeerName, string> = {
  concord: '#2563eb',
  'concord-relay': '#60a5fa',
  'y-websocket': '#f59e0b',
  hocuspocus: '#10b981',
  'raw-relay': '#9ca3af',
};
const LABELS: Record<PeerName, string> = {
  concord: 'Concord',
  'concord-relay': 'Concord relay only',
  'y-websocket': 'y-websocket',
  hocuspocus: 'Hocuspocus',
  'raw-relay': 'raw relay (floor)',
};

const WIDTH = 960;
const PANEL_HEIGHT = 260;
const LEFT = 60;
const RIGHT = 20;
const TOP = 50;

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** A round axis maximum at or above `value`. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** The chart for `results` (scenario name → result), or null when no scenario has the charted rows. */
export function performanceChart(results: Record<string, ScenarioResult>, servers: PeerName[], caption: string): string | null {
  const scenarios = Object.entries(results).filter(([, r]) => CHART_MEASURES.every((m) => r.rows?.some((row) => row.measure === m.measure)));
  if (scenarios.length === 0) return null;
  const parts: string[] = [];
  const height = TOP + CHART_MEASURES.length * (PANEL_HEIGHT + 70) + 30;
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  // Legend.
  servers.forEach((server, i) => {
    const x = LEFT + i * 180;
    parts.push(`<rect x="${x}" y="16" width="14" height="14" fill="${COLOURS[server]}"/><text x="${x + 20}" y="28">${escapeXml(LABELS[server])}</text>`);
  });
  const plotWidth = WIDTH - LEFT - RIGHT;
  const group = plotWidth / scenarios.length;
  const bar = Math.min(26, (group - 16) / servers.length);
  CHART_MEASURES.forEach((m, panel) => {
    const top = TOP + panel * (PANEL_HEIGHT + 70) + 20;
    const value = (r: ScenarioResult, server: PeerName) => r.rows!.find((row) => row.measure === m.measure)!.cells[server]?.median ?? null;
    const max = niceMax(Math.max(...scenarios.flatMap(([, r]) => servers.map((s) => value(r, s) ?? 0))));
    const y = (v: number) => top + PANEL_HEIGHT - (v / max) * PANEL_HEIGHT;
    parts.push(`<text x="${LEFT}" y="${top - 8}" font-weight="bold">${escapeXml(m.title)}</text>`);
    for (let t = 0; t <= 5; t++) {
      const v = (max * t) / 5;
      parts.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`);
      parts.push(`<text x="${LEFT - 6}" y="${y(v) + 4}" text-anchor="end" fill="#374151">${Number(v.toPrecision(3))}</text>`);
    }
    scenarios.forEach(([name, r], g) => {
      const x0 = LEFT + g * group + (group - bar * servers.length) / 2;
      servers.forEach((server, i) => {
        const v = value(r, server);
        if (v === null) return;
        const x = x0 + i * bar;
        parts.push(
          `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bar - 2).toFixed(1)}" height="${(top + PANEL_HEIGHT - y(v)).toFixed(1)}" fill="${COLOURS[server]}">` +
            `<title>${escapeXml(`${name}, ${LABELS[server]}: ${Number(v.toPrecision(3))} ${m.unit}`)}</title></rect>`,
        );
      });
      parts.push(`<text x="${(LEFT + g * group + group / 2).toFixed(1)}" y="${top + PANEL_HEIGHT + 16}" text-anchor="middle" fill="#111827">${escapeXml(name)}</text>`);
    });
  });
  parts.push(`<text x="${LEFT}" y="${height - 10}" fill="#6b7280">${escapeXml(caption)}</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

// CLI: chart a saved run.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [input, output] = process.argv.slice(2);
  if (!input) {
    console.error('usage: npx tsx tests/bench/chart.ts <results.json> [out.svg]');
    process.exit(2);
  }
  const saved = JSON.parse(fs.readFileSync(input, 'utf8')) as { results: Record<string, ScenarioResult>; servers: Record<string, string>; concord: string; date: string };
  const svg = performanceChart(saved.results, Object.keys(saved.servers) as PeerName[], `npm run bench, ${saved.date.slice(0, 10)}, Concord ${saved.concord}; medians of runs`);
  if (!svg) {
    console.error(`${input} holds no load scenario with p99 and CPU per delivery`);
    process.exit(1);
  }
  const out = output ?? input.replace(/\.json$/, '.svg');
  fs.writeFileSync(out, svg);
  console.log(`chart written to ${out}`);
}
