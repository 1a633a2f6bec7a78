import { randomInt } from 'node:crypto';
import { PHASE_PRODUCTION_BUILD } from 'next/constants.js';

const dev = process.env.NODE_ENV === 'development';

// Next inlines its bootstrap scripts, and ProseMirror and remote cursors use inline styles, so
// those need 'unsafe-inline'; everything else is same-origin only. Dev adds eval for hot reload.
const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${dev ? " 'unsafe-eval'" : ''}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "worker-src 'self' blob:",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * One ID per production build: Next's own (.next/BUILD_ID) and, inlined as
 * process.env.CONCORD_BUILD_ID, the browser's, which keys the offline cache by build
 * (public/sw.js, lib/client/offlineCache.ts). It starts with the build's UTC time so IDs sort by
 * age: a page of an older build never moves the service worker back. Kept in process.env so the
 * worker processes Next starts during a build, which load this file again, inherit the same one.
 * Digits only after the time: Next rejects IDs containing "ad" (ad blockers).
 */
function buildIdFor(/** @type {string} */ phase) {
  if (phase !== PHASE_PRODUCTION_BUILD) return process.env.CONCORD_BUILD_ID ?? 'development';
  process.env.CONCORD_BUILD_ID ??= `${new Date().toISOString().replace(/[-:.]/g, '')}-${String(randomInt(1e6)).padStart(6, '0')}`;
  return process.env.CONCORD_BUILD_ID;
}

/** @param {string} phase @returns {import('next').NextConfig} */
export default function nextConfig(phase) {
  const buildId = buildIdFor(phase);
  return {
    reactStrictMode: true,
    generateBuildId: () => buildId,
    env: { CONCORD_BUILD_ID: buildId },
    poweredByHeader: false,
    // The relay and API live in our own Node server (server/); Next only renders pages.
    async headers() {
      return [
        {
          source: '/:path*',
          headers: [
            { key: 'Referrer-Policy', value: 'no-referrer' },
            { key: 'X-Content-Type-Options', value: 'nosniff' },
            { key: 'Content-Security-Policy', value: contentSecurityPolicy },
          ],
        },
        {
          // The service worker: always checked for a newer version.
          source: '/sw.js',
          headers: [{ key: 'Cache-Control', value: 'no-cache' }],
        },
      ];
    },
  };
}
