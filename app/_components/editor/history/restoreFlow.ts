/**
 * Restoring a version from the browser (issue #16, item 4), so the person who restored can undo
 * it: the restore is a change of this tab's replica, made with an origin the editor's undo
 * manager tracks, and reaches everyone else like any edit. Framework-free.
 *
 * Order: wait until this replica's edits are stored (so "Before restore" holds them), have the
 * server save "Before restore", fetch the version, then apply it as one undo step.
 */
import * as Y from 'yjs';
import type { EditorView } from 'prosemirror-view';
import { yUndoPluginKey } from 'y-prosemirror';
import type { DocumentSession } from '../../../../lib/client/DocumentSession';
import { HistoryApiError, type HistoryApi, type VersionSummary } from '../../../../lib/client/historyApi';
import { TITLE_TEXT } from '../../../../lib/documents/dataModel';
import { TITLES_MAP } from '../../../../lib/documents/title';
import { restoreInto } from '../../../../lib/history/restoreVersion';

/** The origin of a restore made in this tab: tracked by the editor's undo manager. */
export const RESTORE_ORIGIN = { kind: 'history-restore' } as const;

/** The name the server's own restore endpoint gives the version saved first (same here). */
export const BEFORE_RESTORE_NAME = 'Before restore';

/** How long a restore waits for this tab's edits to be stored before giving up. */
export const SAVE_WAIT_MS = 15_000;

function isSaved(session: DocumentSession): boolean {
  return session.status.status === 'saved' && session.unsavedEdits === 0;
}

/** Resolves once every edit made here is stored by the server; rejects after `timeoutMs`. */
export function waitUntilSaved(session: DocumentSession, timeoutMs = SAVE_WAIT_MS): Promise<void> {
  if (isSaved(session)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      unsubscribe();
      if (error) reject(error);
      else resolve();
    };
    const unsubscribe = session.subscribe(() => {
      if (isSaved(session)) done();
    });
    const timer = setTimeout(
      () => done(new HistoryApiError('Your latest changes are not saved yet, so nothing was restored. Try again once the status shows “All changes saved”.', 'not-saved', null)),
      timeoutMs,
    );
  });
}

/** The editor's undo manager (y-prosemirror's), set up to take restores back too. */
export function restoreUndoManager(view: EditorView, doc: Y.Doc): Y.UndoManager {
  const state = yUndoPluginKey.getState(view.state);
  if (!state) throw new RangeError('the editor has no undo plugin');
  const undoManager = state.undoManager;
  undoManager.addTrackedOrigin(RESTORE_ORIGIN);
  // The title's register and its legacy text: a restore sets the title too. Only restores change
  // them with a tracked origin, so the title field's own edits are not undone from the editor.
  undoManager.addToScope([doc.getText(TITLE_TEXT), doc.getMap(TITLES_MAP)]);
  return undoManager;
}

export interface RestoreOutcome {
  beforeRestore: VersionSummary;
  /** Null when the document already had the version's content (nothing to undo). */
  undo: RestoreUndo | null;
}

export async function restoreVersion(options: {
  session: DocumentSession;
  view: EditorView;
  api: HistoryApi;
  versionId: string;
  /** Told when the restore moves on to its next step (for the status line). */
  onStep?(step: 'saving' | 'before-restore' | 'fetching'): void;
}): Promise<RestoreOutcome> {
  const { session, view, api, versionId, onStep } = options;
  if (!session.canEdit) throw new RangeError('restore needs an edit link');
  onStep?.('saving');
  await waitUntilSaved(session);
  onStep?.('before-restore');
  const beforeRestore = await api.name(BEFORE_RESTORE_NAME);
  onStep?.('fetching');
  const versionDoc = new Y.Doc();
  Y.applyUpdate(versionDoc, await api.content(versionId));
  const undoManager = restoreUndoManager(view, session.doc);
  // One undo step of its own: not merged with typing just before or after it.
  undoManager.stopCapturing();
  const depth = undoManager.undoStack.length;
  restoreInto(session.doc, versionDoc, RESTORE_ORIGIN);
  undoManager.stopCapturing();
  versionDoc.destroy();
  const item = undoManager.undoStack.length > depth ? undoManager.undoStack[undoManager.undoStack.length - 1]! : null;
  return { beforeRestore, undo: item ? new RestoreUndo(undoManager, item) : null };
}

/** Undoing one restore, as long as it is the latest step on the editor's undo stack. */
export class RestoreUndo {
  constructor(
    private readonly undoManager: Y.UndoManager,
    private readonly item: Y.UndoManager['undoStack'][number],
  ) {}

  /** False once it was undone, or after later edits of this person (Undo in the editor reaches it). */
  get available(): boolean {
    const stack = this.undoManager.undoStack;
    return stack[stack.length - 1] === this.item;
  }

  /** Undoes the restore; false (and nothing done) when it is not the latest step. */
  undo(): boolean {
    if (!this.available) return false;
    this.undoManager.undo();
    return true;
  }
}
