'use client';

import { useEffect, useState } from 'react';
import type { Awareness } from 'y-protocols/awareness';

interface Person {
  clientId: number;
  name: string;
  color: string;
  viewer: boolean;
  me: boolean;
}

function peopleIn(awareness: Awareness): Person[] {
  const people: Person[] = [];
  for (const [clientId, state] of awareness.getStates()) {
    const user = (state as { user?: { name?: unknown; color?: unknown; role?: unknown } }).user;
    if (!user || typeof user.name !== 'string') continue;
    people.push({
      clientId,
      name: user.name.slice(0, 40),
      color: typeof user.color === 'string' && /^#[0-9a-f]{6}$/i.test(user.color) ? user.color : '#57606a',
      viewer: user.role === 'viewer',
      me: clientId === awareness.clientID,
    });
  }
  return people.sort((a, b) => Number(b.me) - Number(a.me) || a.name.localeCompare(b.name));
}

/** Who is here now, from awareness; people who leave drop off within seconds. */
export default function PresenceList({ awareness }: { awareness: Awareness }) {
  const [people, setPeople] = useState<Person[]>(() => peopleIn(awareness));
  useEffect(() => {
    const onChange = () => setPeople(peopleIn(awareness));
    onChange();
    awareness.on('change', onChange);
    return () => awareness.off('change', onChange);
  }, [awareness]);

  return (
    <ul className="presence" data-testid="presence" aria-label="People in this document">
      {people.map((p) => (
        <li key={p.clientId} title={`${p.name}${p.me ? ' (you)' : ''}${p.viewer ? ' — viewing' : ''}`} data-me={p.me || undefined}>
          <span className="avatar" style={{ background: p.color }} aria-hidden="true">
            {p.name.slice(0, 1).toUpperCase()}
          </span>
          <span className="presence-name">
            {p.name}
            {p.me ? ' (you)' : ''}
            {p.viewer ? ' · viewer' : ''}
          </span>
        </li>
      ))}
    </ul>
  );
}
