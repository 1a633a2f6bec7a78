/** Markdown for a scenario's result: Concord-only figures, and comparison tables with Concord's ratio to each peer. */
import { formatValue } from './format';
import { PEERS } from './peers';
import type { PeerName } from './peers/PeerServer';
import type { Cell, ComparisonRow, ScenarioResult } from './scenario';

function cellText(cell: Cell | undefined, row: ComparisonRow): string {
  if (!cell) return '';
  if (cell.median === null) return cell.note ? `n/a (${cell.note})` : 'n/a';
  const text = formatValue(cell.median, row.unit);
  return cell.note ? `${text} (${cell.note})` : text;
}

/** Concord ÷ peer, with 2 significant decimals; blank when either side has no figure. */
function ratioText(concord: Cell | undefined, peer: Cell | undefined): string {
  if (!concord || !peer || concord.median === null || peer.median === null || peer.median === 0) return '—';
  return `${(concord.median / peer.median).toFixed(2)}×`;
}

export function comparisonTable(rows: ComparisonRow[], servers: PeerName[]): string {
  const peers = servers.filter((s) => s !== 'concord');
  const withRatios = servers.includes('concord') && peers.length > 0;
  const header = ['measure', ...servers.map((s) => PEERS[s].label), ...(withRatios ? peers.map((p) => `Concord ÷ ${PEERS[p].label}`) : [])];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const row of rows) {
    const cells = [
      `${row.measure} (${row.better} is better)`,
      ...servers.map((s) => cellText(row.cells[s], row)),
      ...(withRatios ? peers.map((p) => ratioText(row.cells.concord, row.cells[p])) : []),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function scenarioMarkdown(name: string, result: ScenarioResult, servers: PeerName[]): string {
  const parts = [`### ${name}`];
  if (result.rows?.length) parts.push(comparisonTable(result.rows, servers));
  if (result.figures?.length) {
    parts.push(['| measure | value |', '| --- | --- |', ...result.figures.map((f) => `| ${f.name} | ${f.display} |`)].join('\n'));
  }
  if (result.notes?.length) parts.push(result.notes.join('\n'));
  if (result.failures.length) parts.push(`**FAILED**\n${result.failures.map((f) => `- ${f}`).join('\n')}`);
  return parts.join('\n\n');
}
