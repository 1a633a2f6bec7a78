/**
 * WebSocket close codes used by the relay: the one table shared by server, browser and tests.
 *
 * 4400–4499 are permanent refusals: the stock y-websocket provider stops reconnecting on them, and
 * so does our editor, which explains what happened. 4500–4599 are transient: retry later.
 */
export const CloseCode = {
  /** Normal closure (RFC 6455). */
  normal: 1000,
  /** The server is shutting down or restarting; reconnect. */
  goingAway: 1001,
  /**
   * Something failed inside the server (RFC 6455's "unexpected condition"): not the client's
   * fault, so not a 44xx refusal; reconnect. Every client treats it as transient.
   */
  internalError: 1011,

  /** The frame could not be parsed as a protocol message, or carried an invalid update. */
  malformedMessage: 4400,
  /** The link carries no capability token. */
  missingCapability: 4401,
  /** The capability is not valid for this document, or was revoked by rotation. */
  forbidden: 4403,
  /** The URL does not name a valid document. */
  badDocumentId: 4404,
  /**
   * The editor claimed a Yjs client id with the wrong secret (lib/protocol/clientClaims.ts): the id
   * belongs to another replica, which alone may write its history.
   */
  clientIdTaken: 4409,
  /** The document was deleted by its owner. */
  documentDeleted: 4410,
  /** A message was larger than allowed. */
  messageTooLarge: 4413,
  /** The document reached its size limit. */
  documentTooLarge: 4414,
  /** Too much update data that cannot be integrated (its dependencies never arrived). */
  tooMuchPendingData: 4415,
  /** The client asked for a protocol extension version this server does not speak. */
  unsupportedProtocol: 4426,
  /**
   * The editor declared a schema version older than the document's (lib/documents/schemaVersion.ts):
   * it would delete content it cannot map, so it must reload to get the newer editor.
   */
  editorOutdated: 4427,

  // Cluster links (/cluster/link, server/replication/handshake.ts): server ↔ server only, never
  // sent to a browser or client. Permanent like every 44xx: the same configuration is refused
  // again, so an operator must act (a dialer may still try a timed-out handshake later).
  /** A cluster-link frame that is not a valid link message, or not the one expected at that step. */
  linkMalformed: 4490,
  /** The peer could not prove it holds CLUSTER_SECRET (wrong secret, replayed or forged proof). */
  clusterAuthFailed: 4491,
  /** The peer proved a region name it may not use: this region's own, or one already linked. */
  regionNameInUse: 4492,
  /** The peer speaks another version of the link protocol. */
  linkVersionMismatch: 4493,
  /** The link handshake did not finish in time. */
  linkHandshakeTimeout: 4494,

  /** The server could not load the document; try again later. */
  documentUnavailable: 4503,
  /** The connection missed its heartbeat. */
  heartbeatTimeout: 4508,
  /** The client read too slowly and too much was queued for it; reconnecting resyncs it. */
  slowConsumer: 4509,
  /** The connection sent messages faster than allowed. */
  rateLimited: 4529,
  /** Too many connections from this client address. */
  tooManyConnections: 4530,
} as const;

export type CloseCodeName = keyof typeof CloseCode;

/** Permanent refusals: retrying with the same URL cannot succeed. */
export function isPermanentRefusal(code: number): boolean {
  return code >= 4400 && code <= 4499;
}

/** Transient refusals: the client should retry after a back-off. */
export function isTransientRefusal(code: number): boolean {
  return code >= 4500 && code <= 4599;
}

const DESCRIPTIONS: Record<number, string> = {
  [CloseCode.normal]: 'Connection closed.',
  [CloseCode.goingAway]: 'The server is restarting.',
  [CloseCode.internalError]: 'The server hit an unexpected error; reconnecting.',
  [CloseCode.malformedMessage]: 'The server could not understand a message from this editor.',
  [CloseCode.missingCapability]: 'This link has no access token. Ask the owner for an edit or view link.',
  [CloseCode.forbidden]: 'This link is not valid for this document, or it was replaced by a new link. Ask the owner for the current link.',
  [CloseCode.badDocumentId]: 'This link does not name a valid document.',
  [CloseCode.clientIdTaken]: 'This editor\'s identity in the document belongs to another copy of it. Reload the page to keep editing.',
  [CloseCode.documentDeleted]: 'The owner deleted this document.',
  [CloseCode.messageTooLarge]: 'A change was too large for the server to accept.',
  [CloseCode.documentTooLarge]: 'This document has reached its size limit.',
  [CloseCode.tooMuchPendingData]: 'This editor sent changes the server could not place.',
  [CloseCode.unsupportedProtocol]: 'This editor is newer than the server. Reload the page, or ask the server\'s administrator to update Concord.',
  [CloseCode.editorOutdated]: 'This document was edited with a newer version of Concord. Reload the page to keep editing.',
  [CloseCode.linkMalformed]: 'Cluster link: malformed link frame.',
  [CloseCode.clusterAuthFailed]: 'Cluster link: cluster authentication failed.',
  [CloseCode.regionNameInUse]: 'Cluster link: region name in use.',
  [CloseCode.linkVersionMismatch]: 'Cluster link: link protocol version mismatch.',
  [CloseCode.linkHandshakeTimeout]: 'Cluster link: handshake timeout.',
  [CloseCode.documentUnavailable]: 'The server could not load this document right now.',
  [CloseCode.heartbeatTimeout]: 'The connection stopped responding.',
  [CloseCode.slowConsumer]: 'The connection was too slow to keep up; reconnecting.',
  [CloseCode.rateLimited]: 'Too many changes too quickly; reconnecting shortly.',
  [CloseCode.tooManyConnections]: 'Too many open connections from this network; retrying shortly.',
};

/** Human-readable explanation of a close code, for the editor's status line. */
export function describeCloseCode(code: number): string {
  return DESCRIPTIONS[code] ?? `Connection closed (code ${code}).`;
}
