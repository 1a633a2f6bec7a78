import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import 'prosemirror-view/style/prosemirror.css';
import 'prosemirror-gapcursor/style/gapcursor.css';
import './globals.css';

export const metadata: Metadata = {
  title: 'Concord',
  description: 'Write together in real time. Self-hosted, offline-friendly collaborative documents.',
  referrer: 'no-referrer',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
