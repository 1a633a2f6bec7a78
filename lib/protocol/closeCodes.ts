/**
 * WebSocket close codes used by the relay: the one table shared by server, browser and tests.
 *
 * 4400–4499 are permanent refusals: the stock y-websocket provider stops reconnecting on them, and
 * so does our editor. 4500–4599 are transient: the client retries later.
 */
export const CloseCode = {
  /** Normal closure (RFC 6455). */
  normal: 1000,
  /** The server is shutting down or restarting; reconnect. */
  goingAway: 1001,
  /** The frame could not be parsed as a protocol message. */
  malformedMessage: 4400,
  /** The URL does not name a valid document. */
  badDocumentId: 4404,
  /** A message was larger than allowed. */
  messageTooLarge: 4413,
  /** The server could not load the document; try again later. */
  documentUnavailable: 4503,
  /** The connection missed its heartbeat. */
  heartbeatTimeout: 4508,
  /** The client read too slowly and too much was queued for it; reconnecting resyncs it. */
  slowConsumer: 4509,
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

/** Human-readable explanation of a close code, for the editor's status line. */
export function describeCloseCode(code: number): string {
  switch (code) {
    case CloseCode.normal:
      return 'Connection closed.';
    case CloseCode.goingAway:
      return 'The server is restarting.';
    case CloseCode.malformedMessage:
      return 'The server could not understand a message from this editor.';
    case CloseCode.badDocumentId:
      return 'This link does not name a valid document.';
    case CloseCode.messageTooLarge:
      return 'A change was too large for the server to accept.';
    case CloseCode.documentUnavailable:
      return 'The server could not load this document right now.';
    case CloseCode.heartbeatTimeout:
      return 'The connection stopped responding.';
    case CloseCode.slowConsumer:
      return 'The connection was too slow to keep up; reconnecting.';
    default:
      return `Connection closed (code ${code}).`;
  }
}
