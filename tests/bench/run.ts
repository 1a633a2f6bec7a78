/**
 * Benchmarks: `npm run bench [-- --scenario <name>]`. Prints a Markdown table per scenario and
 * writes JSON to tests/bench/results/. Figures come from real server processes on loopback.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Figure, Scenario } from './scenario';
import { automergePaper } from './scenarios/automergePaper';
import { divergence } from './scenarios/divergence';

/** Every scenario, selectable by name; add new ones here. */
const SCENARIOS: Record<string, Scenario> = Object.fromEntries([automergePaper, divergence].map((s) => [s.name, s]));

const { values } = parseArgs({ options: { scenario: { type: 'string', multiple: true } } });
const chosen = values.scenario ?? Object.keys(SCENARIOS);
for (const name of chosen) {
  if (!SCENARIOS[name]) {
    console.error(`Unknown scenario "${name}". Scenarios: ${Object.keys(SCENARIOS).join(', ')}`);
    process.exit(2);
  }
}

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const results: Record<string, Figure[]> = {};
for (const name of chosen) {
  const scenario = SCENARIOS[name]!;
  console.log(`\nRunning ${name}: ${scenario.description}…`);
  const figures = await scenario.run();
  results[name] = figures;
  console.log(`\n### ${name}\n\n| measure | value |\n| --- | --- |`);
  for (const f of figures) console.log(`| ${f.name} | ${f.display} |`);
}
console.log(`\nMachine: ${machine}`);

const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
fs.mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, JSON.stringify({ machine, date: new Date().toISOString(), results }, null, 2));
console.log(`Results written to ${path.relative(process.cwd(), file)}`);
