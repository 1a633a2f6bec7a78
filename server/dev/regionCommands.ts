/**
 * The commands `npm run regions` reads from its standard input, parsed into values (pure, no
 * I/O), so the tool's loop only dispatches them and a typo gets a one-line answer, not a crash.
 */

export type RegionCommand =
  | { kind: 'cut'; a: string; b: string }
  /** No regions: every link; one: every link of that region; two: the link between them. */
  | { kind: 'heal'; regions: string[] }
  | { kind: 'isolate'; region: string }
  | { kind: 'kill'; region: string }
  | { kind: 'stop'; region: string }
  | { kind: 'start'; region: string }
  | { kind: 'status' }
  | { kind: 'help' }
  | { kind: 'quit' };

export type ParsedCommand = { ok: true; command: RegionCommand } | { ok: false; error: string };

export function regionCommandHelp(names: readonly string[]): string {
  const [a = 'a', b = 'b'] = names;
  return [
    `Regions: ${names.join(', ')}. Commands:`,
    `  cut ${a} ${b}      break the link between two regions (both directions: broken TCP)`,
    `  heal ${a} ${b}     let that link through again (the regions redial within 5 s)`,
    `  heal ${a}        heal every link of one region;  heal  heals every link`,
    `  isolate ${a}     cut every link of one region (its own clients keep working)`,
    `  kill ${a}        SIGKILL a region's process (no chance to store anything)`,
    `  stop ${a}        stop a region cleanly (SIGTERM)`,
    `  start ${a}       start a killed or stopped region again, on the same port and data`,
    '  status        each region\'s view of its links (from its /healthz)',
    '  help          this list',
    '  quit          stop every region cleanly and exit (also Ctrl-C)',
  ].join('\n');
}

/** Parses one input line; null for a blank line. */
export function parseRegionCommand(line: string, names: readonly string[]): ParsedCommand | null {
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  const [verb = '', ...args] = words;
  const unknownRegion = args.find((arg) => !names.includes(arg));
  const fail = (error: string): ParsedCommand => ({ ok: false, error });
  const arity = (min: number, max: number, usage: string): string | null => {
    if (args.length < min || args.length > max) return `usage: ${usage}`;
    if (unknownRegion !== undefined) return `no region named "${unknownRegion}" (regions: ${names.join(', ')})`;
    return null;
  };
  switch (verb.toLowerCase()) {
    case 'cut': {
      const problem = arity(2, 2, 'cut <region> <region>');
      if (problem) return fail(problem);
      if (args[0] === args[1]) return fail('a region has no link to itself');
      return { ok: true, command: { kind: 'cut', a: args[0]!, b: args[1]! } };
    }
    case 'heal': {
      const problem = arity(0, 2, 'heal [<region> [<region>]]');
      if (problem) return fail(problem);
      if (args.length === 2 && args[0] === args[1]) return fail('a region has no link to itself');
      return { ok: true, command: { kind: 'heal', regions: args } };
    }
    case 'isolate':
    case 'kill':
    case 'stop':
    case 'start': {
      const kind = verb.toLowerCase() as 'isolate' | 'kill' | 'stop' | 'start';
      const problem = arity(1, 1, `${kind} <region>`);
      if (problem) return fail(problem);
      return { ok: true, command: { kind, region: args[0]! } };
    }
    case 'status':
    case 'help':
    case 'quit':
    case 'exit': {
      if (args.length > 0) return fail(`usage: ${verb}`);
      const kind = verb.toLowerCase() === 'exit' ? 'quit' : (verb.toLowerCase() as 'status' | 'help' | 'quit');
      return { ok: true, command: { kind } };
    }
    default:
      return fail(`unknown command "${verb}"; type help`);
  }
}
