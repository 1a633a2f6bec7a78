import { describe, expect, it } from 'vitest';
import { mintDocument } from '../../lib/auth/capabilities';
import { docIdFromPath, relayUrl, shareLink, tokenFromHash } from '../../lib/client/shareLinks';

describe('share links', () => {
  it('builds the relay URL from the page location', () => {
    expect(relayUrl({ protocol: 'http:', host: 'localhost:3000' })).toBe('ws://localhost:3000/ws');
    expect(relayUrl({ protocol: 'https:', host: 'docs.example.com' })).toBe('wss://docs.example.com/ws');
  });

  it('reads the capability from the fragment, with or without "#"', () => {
    const { docId, edit } = mintDocument();
    const link = shareLink('https://docs.example.com', docId, edit);
    expect(link).toBe(`https://docs.example.com/d/${docId}#token=${edit}`);
    expect(tokenFromHash(new URL(link).hash)).toBe(edit);
    expect(tokenFromHash(`token=${edit}`)).toBe(edit);
  });

  it('ignores fragments without a well-formed token', () => {
    expect(tokenFromHash('')).toBeNull();
    expect(tokenFromHash('#')).toBeNull();
    expect(tokenFromHash('#token=short')).toBeNull();
    expect(tokenFromHash('#other=1')).toBeNull();
  });

  it('reads the document ID from a page path, and nothing else', () => {
    const { docId } = mintDocument();
    expect(docIdFromPath(`/d/${docId}`)).toBe(docId);
    expect(docIdFromPath(`/d/${docId}/`)).toBe(docId);
    expect(docIdFromPath('/d/not-an-id')).toBeNull();
    expect(docIdFromPath(`/x/${docId}`)).toBeNull();
    expect(docIdFromPath(`/d/${docId}/more`)).toBeNull();
  });
});
