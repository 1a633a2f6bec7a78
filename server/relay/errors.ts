import { CloseCode } from '../../lib/protocol/closeCodes';

/** An error that ends one connection with a specific close code; the room and server carry on. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  constructor(
    readonly closeCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ProtocolError extends ConnectionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(CloseCode.malformedMessage, message, options);
  }
}
