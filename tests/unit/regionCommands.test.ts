/** The command parser of `npm run regions` (server/dev/regionCommands.ts). */
import { describe, expect, it } from 'vitest';
import { parseRegionCommand, regionCommandHelp } from '../../server/dev/regionCommands';

const NAMES = ['eu', 'us', 'ap'];
const parse = (line: string) => parseRegionCommand(line, NAMES);

describe('parseRegionCommand', () => {
  it('reads every command', () => {
    expect(parse('cut eu us')).toEqual({ ok: true, command: { kind: 'cut', a: 'eu', b: 'us' } });
    expect(parse('  HEAL   eu us ')).toEqual({ ok: true, command: { kind: 'heal', regions: ['eu', 'us'] } });
    expect(parse('heal ap')).toEqual({ ok: true, command: { kind: 'heal', regions: ['ap'] } });
    expect(parse('heal')).toEqual({ ok: true, command: { kind: 'heal', regions: [] } });
    expect(parse('isolate ap')).toEqual({ ok: true, command: { kind: 'isolate', region: 'ap' } });
    expect(parse('kill us')).toEqual({ ok: true, command: { kind: 'kill', region: 'us' } });
    expect(parse('stop us')).toEqual({ ok: true, command: { kind: 'stop', region: 'us' } });
    expect(parse('start us')).toEqual({ ok: true, command: { kind: 'start', region: 'us' } });
    expect(parse('status')).toEqual({ ok: true, command: { kind: 'status' } });
    expect(parse('help')).toEqual({ ok: true, command: { kind: 'help' } });
    expect(parse('quit')).toEqual({ ok: true, command: { kind: 'quit' } });
    expect(parse('exit')).toEqual({ ok: true, command: { kind: 'quit' } });
  });

  it('ignores blank lines and answers mistakes with one line', () => {
    expect(parse('   ')).toBeNull();
    expect(parse('cut eu')).toEqual({ ok: false, error: 'usage: cut <region> <region>' });
    expect(parse('cut eu eu')).toEqual({ ok: false, error: 'a region has no link to itself' });
    expect(parse('kill mars')).toEqual({ ok: false, error: 'no region named "mars" (regions: eu, us, ap)' });
    expect(parse('heal eu us ap')).toEqual({ ok: false, error: 'usage: heal [<region> [<region>]]' });
    expect(parse('status now')).toEqual({ ok: false, error: 'usage: status' });
    expect(parse('partition')).toEqual({ ok: false, error: 'unknown command "partition"; type help' });
  });

  it('names the regions in the help', () => {
    expect(regionCommandHelp(NAMES)).toContain('cut eu us');
    expect(regionCommandHelp(NAMES)).toContain('Regions: eu, us, ap.');
  });
});
