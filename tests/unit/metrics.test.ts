/** The relay's message counters, read as Prometheus scrapes them. */
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../server/metrics';
import { ACK_MESSAGE_TYPE, MARK_MESSAGE_TYPE } from '../../lib/protocol/ackExtension';
import { MessageType } from '../../lib/protocol/messageTypes';

async function scrape(metrics: Metrics): Promise<string> {
  return (await metrics.render()).body;
}

describe('message metrics', () => {
  it('names the stored-ack extension types 100 and 101 instead of counting them as unknown', async () => {
    const metrics = new Metrics(() => ({ connections: 0, documentsLoaded: 0 }), false);
    metrics.messageIn(MARK_MESSAGE_TYPE, 2);
    metrics.messageOut(ACK_MESSAGE_TYPE, 10, 3);
    metrics.messageOut(MARK_MESSAGE_TYPE, 12);

    const text = await scrape(metrics);
    expect(text).toContain('concord_messages_received_total{type="mark"} 1');
    expect(text).toContain('concord_messages_sent_total{type="storedAck"} 3');
    expect(text).toContain('concord_messages_sent_total{type="mark"} 1');
    expect(text).not.toContain('type="unknown"');
  });

  it('still counts the stock types by name and a type nobody defined as unknown', async () => {
    const metrics = new Metrics(() => ({ connections: 0, documentsLoaded: 0 }), false);
    metrics.messageIn(MessageType.sync, 5);
    metrics.messageIn(MessageType.queryAwareness, 1);
    metrics.messageIn(57, 1);

    const text = await scrape(metrics);
    expect(text).toContain('concord_messages_received_total{type="sync"} 1');
    expect(text).toContain('concord_messages_received_total{type="queryAwareness"} 1');
    expect(text).toContain('concord_messages_received_total{type="unknown"} 1');
    expect(text).toContain('concord_bytes_received_total 7');
  });
});
