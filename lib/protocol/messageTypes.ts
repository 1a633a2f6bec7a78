/**
 * Top-level message types of the y-websocket wire protocol (first varUint of every frame).
 * Values are fixed by y-websocket; stock clients know exactly these.
 */
export const MessageType = {
  sync: 0,
  awareness: 1,
  auth: 2,
  queryAwareness: 3,
} as const;

export type MessageTypeName = keyof typeof MessageType;

/** Names by type value, so the relay's per-message counters look a name up without allocating. */
const NAMES: readonly MessageTypeName[] = (() => {
  const names: MessageTypeName[] = [];
  for (const [name, value] of Object.entries(MessageType)) names[value] = name as MessageTypeName;
  return names;
})();

export function messageTypeName(type: number): MessageTypeName | 'unknown' {
  return NAMES[type] ?? 'unknown';
}
