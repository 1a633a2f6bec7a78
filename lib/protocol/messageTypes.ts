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

export function messageTypeName(type: number): MessageTypeName | 'unknown' {
  for (const [name, value] of Object.entries(MessageType)) {
    if (value === type) return name as MessageTypeName;
  }
  return 'unknown';
}
