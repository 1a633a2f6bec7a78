import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config';

describe('configuration: REDIS_URL and INSTANCE_ID (issue #13)', () => {
  it('runs as a single instance without REDIS_URL', () => {
    expect(loadConfig({}).instances).toBeNull();
    expect(loadConfig({ REDIS_URL: ' ' }).instances).toBeNull();
  });

  it('joins the other instances through REDIS_URL, named by INSTANCE_ID or at random', () => {
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379/2', INSTANCE_ID: 'web-1' }).instances).toEqual({ redisUrl: 'redis://cache:6379/2', instanceId: 'web-1' });
    expect(loadConfig({ REDIS_URL: 'rediss://:secret@cache.example.com:6380' }).instances?.redisUrl).toBe('rediss://:secret@cache.example.com:6380');
    const [first, second] = [loadConfig({ REDIS_URL: 'redis://cache' }), loadConfig({ REDIS_URL: 'redis://cache' })];
    expect(first.instances?.instanceId).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/);
    expect(first.instances?.instanceId).not.toBe(second.instances?.instanceId);
  });

  it.each([
    [{ REDIS_URL: 'http://cache:6379' }, /REDIS_URL="http:\/\/cache:6379\/?": must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ REDIS_URL: 'cache:6379' }, /REDIS_URL="cache:6379": must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ REDIS_URL: 'redis://cache', INSTANCE_ID: '-leading-dash' }, /INSTANCE_ID="-leading-dash": must be 1 to 64 characters/],
    [{ REDIS_URL: 'redis://cache', INSTANCE_ID: 'has space' }, /INSTANCE_ID="has space": must be 1 to 64 characters/],
    [{ INSTANCE_ID: 'web-1' }, /INSTANCE_ID="web-1": needs REDIS_URL to be set/],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('runs a region of several instances with REGION and REDIS_URL together (#13 item 5)', () => {
    const config = loadConfig({ REDIS_URL: 'redis://cache', INSTANCE_ID: 'eu-1', REGION: 'eu', PEERS: 'https://us.example.com', CLUSTER_SECRET: 'a-cluster-secret-of-at-least-32-characters' });
    expect(config.instances).toEqual({ redisUrl: 'redis://cache', instanceId: 'eu-1' });
    expect(config.region?.name).toBe('eu');
  });

  it('never echoes a Redis password', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://:hunter2@cache:6379' })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_URL: 'http://:hunter2@cache:6379' })).not.toThrow(/hunter2/);
    expect(() => loadConfig({ REDIS_URL: 'http://:hunter2@cache:6379' })).toThrow('http://:***@cache:6379');
  });
});
