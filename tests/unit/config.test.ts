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
    expect(config.region).toBeNull();
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

  describe('regions', () => {
    const secret = 'k'.repeat(32);

    it('reads a region, its peers, its secret and its public URL', () => {
      const config = loadConfig({
        REGION: 'eu-west-1',
        PEERS: 'https://us.example.com:8443, http://10.0.0.7:3000/concord/',
        CLUSTER_SECRET: secret,
        REGION_PUBLIC_URL: 'https://eu.docs.example.com/',
        PUBLIC_URL: 'https://docs.example.com',
      });
      expect(config.region).toEqual({
        name: 'eu-west-1',
        peers: [new URL('https://us.example.com:8443/'), new URL('http://10.0.0.7:3000/concord')],
        secret,
        publicUrl: 'https://eu.docs.example.com',
      });
    });

    it('takes the public URL from PUBLIC_URL, and needs no peers (a region may only accept links)', () => {
      expect(loadConfig({ REGION: 'a', CLUSTER_SECRET: secret, PUBLIC_URL: 'https://docs.example.com/' }).region).toEqual({
        name: 'a',
        peers: [],
        secret,
        publicUrl: 'https://docs.example.com',
      });
      expect(loadConfig({ REGION: 'a', CLUSTER_SECRET: secret }).region?.publicUrl).toBeUndefined();
    });

    it.each([
      ['REGION', 'EU', /REGION="EU": must be 1 to 32 characters: lowercase letters/],
      ['REGION', '-eu', /REGION="-eu"/],
      ['REGION', 'a'.repeat(33), /REGION="a{33}"/],
      ['REGION', 'eu west', /REGION="eu west"/],
      ['PEERS', 'us.example.com', /PEERS="us.example.com": entry 1 \(us.example.com\) must be an absolute http\(s\) URL/],
      ['PEERS', 'us.example.com:3000', /PEERS="us.example.com:3000": entry 1 .* must use http:\/\/ or https:\/\//],
      ['PEERS', 'ws://us.example.com', /PEERS="ws:\/\/us.example.com": entry 1 .* must use http:\/\/ or https:\/\//],
      ['PEERS', 'https://u:p@us.example.com', /entry 1 .* must not carry a user name or password/],
      ['PEERS', 'https://us.example.com/?x=1', /entry 1 .* must not have a query or fragment/],
      ['PEERS', 'https://us.example.com,', /entry 2 must be an absolute http\(s\) URL/],
      ['PEERS', 'https://US.example.com:443/, https://us.example.com', /entry 2 \(https:\/\/us.example.com\) is listed twice/],
      ['REGION_PUBLIC_URL', 'eu.example.com', /REGION_PUBLIC_URL="eu.example.com": must be an absolute http\(s\) URL/],
    ])('rejects %s=%s with a clear message', (name, value, message) => {
      const env = { REGION: 'eu', CLUSTER_SECRET: secret, [name]: value };
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });

    it('wants a secret of at least 32 characters, and never shows it', () => {
      const short = 's3cr3t-'.repeat(5).slice(0, 31);
      const load = () => loadConfig({ REGION: 'eu', CLUSTER_SECRET: short });
      expect(load).toThrow(/CLUSTER_SECRET=\(31 characters, not shown\): must be at least 32 characters/);
      expect(load).not.toThrow(short);
      expect(() => loadConfig({ REGION: 'eu', CLUSTER_SECRET: `${secret}\n` })).toThrow(/CLUSTER_SECRET=\(33 characters, not shown\): must not start or end with whitespace/);
    });

    it.each([
      [{ REGION: 'eu' }, /CLUSTER_SECRET="": must be set when REGION is/],
      [{ CLUSTER_SECRET: secret }, /REGION="": must be set when CLUSTER_SECRET is/],
      [{ PEERS: 'https://us.example.com' }, /PEERS="https:\/\/us.example.com": needs REGION and CLUSTER_SECRET/],
      [{ REGION_PUBLIC_URL: 'https://eu.example.com' }, /REGION_PUBLIC_URL=.*: needs REGION and CLUSTER_SECRET/],
    ])('refuses an incomplete region: %o', (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });

    it('reports a missing secret together with other bad variables', () => {
      expect(() => loadConfig({ REGION: 'eu', PEERS: 'nope', PORT: 'x' })).toThrow(/PORT[\s\S]*PEERS[\s\S]*CLUSTER_SECRET/);
    });
  });
});
