/**
 * CatchUp's window over a far link: it keeps `concurrency` comparisons going across backlog pages,
 * and a document it resent is let go while the peer's confirmation is still on its way. Fakes
 * with gates (no timing): the peer answers only when the test says so.
 */
import { describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import * as Y from 'yjs';
import { CatchUp, type CatchUpDeps, type HeldDocument } from '../../server/replication/CatchUp';
import type { PeerLink } from '../../server/replication/PeerLink';
import type { DocumentState } from '../../server/replication/replicationFrames';
import { EMPTY_STATE, encodeState } from '../../server/replication/stateCoverage';
import type { AccessState } from '../../lib/auth/capabilities';
import type { BacklogEntry, DocumentStore } from '../../server/storage/DocumentStore';

const ACCESS: AccessState = { editEpoch: 0, editVerifier: null, viewEpoch: 0, viewVerifier: null, deleted: false };

interface Question {
  docId: string;
  state: Uint8Array;
  answer(state: Uint8Array): void;
}

/**
 * A peer: `reply` answers a question at once with a state, or returns null to leave it waiting
 * until the test answers it.
 */
function fakeLink(reply: (question: Question, nth: number) => Uint8Array | null) {
  const asked = new Map<string, number>();
  const questions: Question[] = [];
  const sent: string[] = [];
  const link = {
    region: 'west',
    isClosed: false,
    buffered: 0,
    openedAt: Date.now() + 60_000, // every backlog entry predates the link: resend at once
    askState(request: Omit<DocumentState, 'request'>): Promise<DocumentState | null> {
      return new Promise((resolve) => {
        const question: Question = { docId: request.docId, state: request.state, answer: (state) => resolve({ ...request, request: 0, state, access: ACCESS }) };
        const nth = (asked.get(request.docId) ?? 0) + 1;
        asked.set(request.docId, nth);
        const state = reply(question, nth);
        if (state) question.answer(state);
        else questions.push(question);
      });
    },
    send(message: { type: string; docId: string }) {
      sent.push(message.docId);
    },
  };
  return { link: link as unknown as PeerLink, questions, sent };
}

function fakeDeps(docIds: string[]) {
  const backlog = new Map<string, BacklogEntry>(docIds.map((docId, i) => [docId, { docId, mark: i + 1, bytes: 10, since: 0 } as BacklogEntry]));
  const held = new Set<string>();
  let mostHeld = 0;
  const store = {
    async listBacklog(_peer: string, limit: number, after = '') {
      return [...backlog.values()].filter((e) => e.docId > after).sort((a, b) => (a.docId < b.docId ? -1 : 1)).slice(0, limit);
    },
    async clearBacklog(_peer: string, docId: string, mark: number) {
      if (backlog.get(docId)?.mark !== mark) return false;
      backlog.delete(docId);
      return true;
    },
  } as unknown as DocumentStore;
  const deps: CatchUpDeps = {
    store,
    log: pino({ level: 'silent' }),
    async hold(docId): Promise<HeldDocument> {
      const doc = new Y.Doc();
      doc.getText('t').insert(0, docId);
      held.add(docId);
      mostHeld = Math.max(mostHeld, held.size);
      return { access: ACCESS, doc, state: encodeState(doc), digest: new Uint8Array([1]), release: () => held.delete(docId) };
    },
    async mergeAccess(_link, _docId, incoming) {
      return incoming;
    },
  };
  return { deps, backlog, held, mostHeld: () => mostHeld };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `doc-${String(i).padStart(4, '0')}`);

describe('catch-up over a far link', () => {
  it('lets a resent document go and compares the next ones while the confirmations are on their way', async () => {
    const { deps, backlog, held, mostHeld } = fakeDeps(ids(8));
    // The first question about each document: "I hold nothing"; the second (after the resend) waits.
    const { link, questions, sent } = fakeLink((_q, nth) => (nth === 1 ? EMPTY_STATE : null));
    const catchUp = new CatchUp(deps, { concurrency: 2 });
    catchUp.run(link);
    await vi.waitFor(() => expect(questions).toHaveLength(8));
    // All eight resent with two comparison slots, none confirmed yet, none held any more.
    expect(sent).toHaveLength(8);
    expect(backlog.size).toBe(8);
    expect(mostHeld()).toBeLessThanOrEqual(2);
    expect(held.size).toBe(0);
    for (const q of questions) q.answer(q.state);
    await vi.waitFor(() => expect(catchUp.passesCompleted.get('west')).toBe(1));
    expect(backlog.size).toBe(0);
  });

  it('keeps its window full across backlog pages instead of waiting for the slowest of a page', async () => {
    const { deps, backlog } = fakeDeps(ids(150));
    // The peer already holds everything, but leaves the question about the first document waiting.
    const { link, questions } = fakeLink((q) => (q.docId === 'doc-0000' ? null : q.state));
    const catchUp = new CatchUp(deps, { concurrency: 4 });
    catchUp.run(link);
    // Page two (doc-0100 on) is compared while a document of page one is still waiting.
    await vi.waitFor(() => expect(backlog.size).toBe(1));
    expect(backlog.has('doc-0000')).toBe(true);
    expect(catchUp.passesCompleted.get('west')).toBeUndefined();
    questions[0]!.answer(questions[0]!.state);
    await vi.waitFor(() => expect(catchUp.passesCompleted.get('west')).toBe(1));
    expect(backlog.size).toBe(0);
  });
});
