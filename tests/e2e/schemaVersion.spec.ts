/**
 * An editor tab older than the content it receives is told to reload and deletes nothing: its
 * y-prosemirror would otherwise delete, for everyone, every element its schema cannot map
 * (issue #15, item 6). Newer content reaches the tab through the relay (which closes the tab with
 * 4427 first) or from another tab of the same browser (which only the tab itself can catch).
 */
import { expect, test, type Page } from '@playwright/test';
import * as Y from 'yjs';
import { BODY_FRAGMENT } from '../../lib/documents/dataModel';
import { recordedSchemaVersion, recordSchemaVersion } from '../../lib/documents/schemaVersion';
import { SCHEMA_VERSION } from '../../lib/editor/schema';
import { encodeUpdateMessage } from '../../lib/protocol/encode';
import { connectClient, type NodeClient } from '../support/nodeClient';
import { createDocument, editorText, typeInEditor } from './support';

const RELOAD_TEXT = 'This document was edited with a newer version of Concord. Reload the page to keep editing.';

const clients: NodeClient[] = [];
test.afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

function linkParts(url: string): { docId: string; token: string } {
  const parsed = new URL(url);
  return { docId: parsed.pathname.split('/').pop()!, token: new URLSearchParams(parsed.hash.slice(1)).get('token')! };
}

/** A raw client with a link (stock: it declares no schema), synced with the server. */
async function rawClient(baseURL: string, docId: string, token: string): Promise<NodeClient> {
  const c = connectClient(`${baseURL.replace(/^http/, 'ws')}/ws`, docId, token);
  clients.push(c);
  await c.synced;
  return c;
}

/** What a newer editor writes: the record of its schema and an element older schemas lack. */
function writeAsNewerEditor(doc: Y.Doc): void {
  doc.transact(() => {
    recordSchemaVersion(doc, SCHEMA_VERSION + 1, null);
    const table = new Y.XmlElement('table');
    table.insert(0, [new Y.XmlText('newer cells')]);
    doc.getXmlFragment(BODY_FRAGMENT).insert(0, [table]);
  });
}

/** The text of every `table` element still in the body (none once deleted). */
function tables(doc: Y.Doc): string[] {
  return doc
    .getXmlFragment(BODY_FRAGMENT)
    .toArray()
    .filter((el): el is Y.XmlElement => el instanceof Y.XmlElement && el.nodeName === 'table')
    .map((el) => el.toArray().map((child) => child.toString()).join(''));
}

/** The document as the tab's IndexedDB replica holds it. */
async function localReplica(page: Page, docId: string): Promise<Y.Doc> {
  const stored = await page.evaluate(async (name) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const updates = await new Promise<unknown[]>((resolve, reject) => {
      const read = db.transaction(['updates'], 'readonly').objectStore('updates').getAll();
      read.onsuccess = () => resolve(read.result);
      read.onerror = () => reject(read.error);
    });
    db.close();
    return updates.map((u) => Array.from(u as Uint8Array));
  }, `concord:${docId}`);
  const doc = new Y.Doc();
  for (const update of stored) Y.applyUpdate(doc, new Uint8Array(update));
  return doc;
}

async function expectReloadNotice(page: Page): Promise<void> {
  await expect(page.getByTestId('reload-notice')).toContainText(RELOAD_TEXT);
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'outdated');
  await expect(page.locator('.ProseMirror')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Reload' })).toBeVisible();
}

test('a tab of an older schema is told to reload when a newer editor writes, and the newer content stays', async ({ browser, baseURL }) => {
  const { page, url } = await createDocument(browser, baseURL!);
  await typeInEditor(page, 'written before the upgrade');
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  const { docId, token } = linkParts(url);

  const newer = await rawClient(baseURL!, docId, token);
  writeAsNewerEditor(newer.doc);

  await expectReloadNotice(page);
  // Read back from the server by a client that was not there: nothing was deleted.
  const fresh = await rawClient(baseURL!, docId, token);
  expect(tables(fresh.doc)).toEqual(['newer cells']);
  expect(recordedSchemaVersion(fresh.doc)).toBe(SCHEMA_VERSION + 1);
  expect(fresh.doc.getXmlFragment(BODY_FRAGMENT).toString()).toContain('written before the upgrade');

  // Reloading gets this server's editor again, which is still the older one: the same notice,
  // and the document is left alone.
  await page.getByRole('button', { name: 'Reload' }).click();
  await expectReloadNotice(page);
  const again = await rawClient(baseURL!, docId, token);
  expect(tables(again.doc)).toEqual(['newer cells']);
});

test('a tab of an older schema unbinds before it can delete newer content arriving from another tab', async ({ browser, baseURL }) => {
  const { page, url } = await createDocument(browser, baseURL!);
  await typeInEditor(page, 'kept');
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'saved');
  const { docId, token } = linkParts(url);
  // The document as it stands, copied off the server to build the newer tab's edit on: the
  // edit must not go through the relay.
  const reader = await rawClient(baseURL!, docId, token);
  const replica = new Y.Doc();
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(reader.doc));
  reader.provider.disconnect();
  expect(await editorText(page)).toBe('kept');
  const before = Y.encodeStateVector(replica);
  writeAsNewerEditor(replica);
  const frame = Array.from(encodeUpdateMessage(Y.encodeStateAsUpdate(replica, before)));

  // Another tab of this browser (a newer version after a reload, say) shares its edit over the
  // BroadcastChannel, which the relay never sees.
  const other = await page.context().newPage();
  await other.goto(`${baseURL}/`);
  await other.evaluate(
    ({ channel, frame }) => {
      const bc = new BroadcastChannel(channel);
      bc.postMessage(new Uint8Array(frame).buffer);
      bc.close();
    },
    { channel: `${baseURL!.replace(/^http/, 'ws')}/ws/${docId}`, frame },
  );

  await expectReloadNotice(page);
  // The tab's replica (IndexedDB; a deletion by the tab would have been queued there before the
  // notice showed) still holds the table and everything before it.
  let local = await localReplica(page, docId);
  expect(tables(local)).toEqual(['newer cells']);
  expect(local.getXmlFragment(BODY_FRAGMENT).toString()).toContain('kept');

  // Reopened, the tab finds the newer content in its own replica first: still nothing deleted.
  await page.reload();
  await expectReloadNotice(page);
  local = await localReplica(page, docId);
  expect(tables(local)).toEqual(['newer cells']);
});
