import { describe, expect, it } from 'vitest';
import type { DocumentMessage } from '../../server/instances/busFrames';
import { TrackedDocument } from '../../server/instances/TrackedDocument';

const message = (sender: string, epoch: number, seq: number): DocumentMessage => ({ sender, epoch, seq, sentAt: 0, frame: { type: 'access' } });

describe('gaps in another instance\'s messages', () => {
  it('sees a skipped message, per sender, and nothing before the first one seen', () => {
    const tracked = new TrackedDocument('doc');
    expect(tracked.gapBefore(message('a', 5, 40))).toBe(false); // what came before is in the load
    expect(tracked.gapBefore(message('a', 5, 41))).toBe(false);
    expect(tracked.gapBefore(message('b', 9, 1))).toBe(false);
    expect(tracked.gapBefore(message('a', 5, 43))).toBe(true);
    expect(tracked.gapBefore(message('a', 5, 44))).toBe(false);
    expect(tracked.gapBefore(message('b', 9, 2))).toBe(false);
  });

  it('starts a sender\'s count again when it loads the document again (a new epoch)', () => {
    const tracked = new TrackedDocument('doc');
    tracked.gapBefore(message('a', 5, 10));
    expect(tracked.gapBefore(message('a', 6, 1))).toBe(false);
    expect(tracked.gapBefore(message('a', 6, 2))).toBe(false);
    expect(tracked.gapBefore(message('a', 7, 3))).toBe(true); // its first two of epoch 7 were lost
  });

  it('never counts unsequenced messages, and forgets a sender when told', () => {
    const tracked = new TrackedDocument('doc');
    tracked.gapBefore(message('a', 5, 10));
    expect(tracked.gapBefore(message('a', 0, 0))).toBe(false);
    expect(tracked.gapBefore(message('a', 5, 11))).toBe(false);
    tracked.forgetSenders('a');
    expect(tracked.gapBefore(message('a', 5, 30))).toBe(false);
  });
});
