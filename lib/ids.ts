/**
 * Document IDs: 22 characters of base64url, 132 random bits.
 *
 * Minted locally from the platform's CSPRNG, never from a counter or a central sequence, so a
 * browser can create a document while offline and any server (or region) accepts it.
 */

export const DOC_ID_LENGTH = 22;
export const DOC_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A fresh random document ID (6 random bits per character; 256 is a multiple of 64, so unbiased). */
export function newDocId(): string {
  const bytes = new Uint8Array(DOC_ID_LENGTH);
  globalThis.crypto.getRandomValues(bytes);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte & 63];
  return id;
}

/** True when `value` is a well-formed document ID. */
export function isDocId(value: unknown): value is string {
  return typeof value === 'string' && DOC_ID_PATTERN.test(value);
}

/** Human-readable reason an ID is refused, for error pages and API answers. */
export function describeBadDocId(value: string): string {
  if (value.length === 0) return 'The document ID is empty.';
  if (value.length !== DOC_ID_LENGTH) {
    return `A document ID has exactly ${DOC_ID_LENGTH} characters; this one has ${value.length}.`;
  }
  return 'A document ID may only contain letters, digits, "-" and "_".';
}

/** Decodes one URL path segment; null when its percent-encoding is malformed. */
export function decodePathSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    // Malformed percent-encoding: callers report it as an invalid ID.
    return null;
  }
}
