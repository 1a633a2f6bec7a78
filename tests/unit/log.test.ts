import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../server/log';
import { mintDocument } from '../../lib/auth/capabilities';

describe('logging', () => {
  it('never writes capability tokens', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger('info', 'test', sink);
    const { edit, owner } = mintDocument();
    log.info({ token: edit, session: { token: owner }, headers: { authorization: `Bearer ${edit}` } }, 'connection');
    const output = lines.join('');
    expect(output).toContain('"msg":"connection"');
    expect(output).toContain('[redacted]');
    expect(output).not.toContain(edit);
    expect(output).not.toContain(owner);
  });
});
