import type { IncomingMessage } from 'node:http';

/**
 * The client's address: the socket's peer, or with `trustProxy` the left-most address in
 * X-Forwarded-For (set by the load balancer in front of us; never trust it otherwise, since any
 * client can send the header).
 */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/** The capability token of a request: `Authorization: Bearer <token>` or the `token` query parameter. */
export function requestToken(req: IncomingMessage, url: URL): string | null {
  const header = req.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (match) return match[1]!;
  }
  return url.searchParams.get('token');
}
