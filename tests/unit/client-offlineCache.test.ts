import { describe, expect, it } from 'vitest';
import { loadedBuildFiles } from '../../lib/client/offlineCache';

describe('loadedBuildFiles', () => {
  it('keeps only this origin’s Next build files, once each', () => {
    const origin = 'https://docs.example.com';
    const files = loadedBuildFiles(
      [
        { name: `${origin}/_next/static/chunks/app.js` },
        { name: `${origin}/_next/static/chunks/app.js` },
        { name: `${origin}/_next/static/css/site.css?v=2` },
        { name: `${origin}/api/docs/abc` },
        { name: `https://elsewhere.example/_next/static/chunks/x.js` },
        { name: 'not a url' },
      ],
      origin,
    );
    expect(files).toEqual(['/_next/static/chunks/app.js', '/_next/static/css/site.css?v=2']);
  });
});
