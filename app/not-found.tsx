import Link from 'next/link';

export default function NotFound() {
  return (
    <main className="message-page">
      <div className="message-card">
        <p className="message-status">Error 404</p>
        <h1>There is nothing here</h1>
        <p>The page you asked for does not exist.</p>
        <p>
          <Link href="/">Go to Concord&apos;s start page</Link>
        </p>
      </div>
    </main>
  );
}
