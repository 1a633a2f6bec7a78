import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config';

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, host: undefined, dataDir: path.resolve('./data'), logLevel: 'info', publicUrl: undefined });
    expect(config.limits).toEqual({
      trustProxy: false,
      maxMessageBytes: 4 * 1024 * 1024,
      maxQueuedBytes: 4 * 1024 * 1024,
      maxMessagesPerSecond: 300,
      maxConnectionsPerIp: 200,
      maxDocumentBytes: 64 * 1024 * 1024,
      maxPendingBytes: 1024 * 1024,
    });
    expect(config.shutdownGraceMs).toBe(10_000);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATA_DIR: '/var/lib/concord',
      LOG_LEVEL: 'debug',
      PUBLIC_URL: 'https://docs.example.com/',
      TRUST_PROXY: 'true',
      MAX_CONNECTIONS_PER_IP: '5000',
      SHUTDOWN_GRACE_MS: '2500',
    });
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', dataDir: '/var/lib/concord', logLevel: 'debug', publicUrl: 'https://docs.example.com' });
    expect(config.limits).toMatchObject({ trustProxy: true, maxConnectionsPerIp: 5000 });
    expect(config.shutdownGraceMs).toBe(2500);
  });

  it.each([
    ['PORT', 'abc', /PORT="abc": must be a whole number from 0 to 65535/],
    ['PORT', '70000', /PORT="70000"/],
    ['PORT', '3.5', /PORT="3.5"/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud"/],
    ['PUBLIC_URL', 'ftp://x', /PUBLIC_URL="ftp:\/\/x": must be an absolute http\(s\) URL/],
    ['HOST', 'a b', /HOST="a b"/],
    ['TRUST_PROXY', 'maybe', /TRUST_PROXY="maybe": must be true or false/],
    ['MAX_MESSAGE_BYTES', '0', /MAX_MESSAGE_BYTES="0": must be a whole number of bytes, at least 1/],
    ['SHUTDOWN_GRACE_MS', '0', /SHUTDOWN_GRACE_MS="0": must be a whole number of milliseconds, at least 1/],
    ['SHUTDOWN_GRACE_MS', '10s', /SHUTDOWN_GRACE_MS="10s": must be a whole number of milliseconds/],
  ])('rejects %s=%s with a clear message', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('lists every bad variable at once', () => {
    expect(() => loadConfig({ PORT: '-1', LOG_LEVEL: 'x' })).toThrow(/PORT[\s\S]*LOG_LEVEL/);
  });
});
