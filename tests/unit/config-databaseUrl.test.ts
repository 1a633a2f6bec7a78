import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config';

describe('configuration: DATABASE_URL (issue #13)', () => {
  it('is unset by default: documents go to SQLite in DATA_DIR', () => {
    expect(loadConfig({}).databaseUrl).toBeUndefined();
    expect(loadConfig({ DATABASE_URL: '  ' }).databaseUrl).toBeUndefined();
  });

  it.each(['postgres://concord:secret@db.example.com:5432/concord', 'postgresql://db/concord?sslmode=require', 'postgres:///concord?host=/var/run/postgresql'])(
    'accepts %s as it is',
    (url) => {
      expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    },
  );

  it.each([
    ['mysql://u@db/concord', /DATABASE_URL="mysql:\/\/u@db\/concord": must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ['./data/concord.db', /DATABASE_URL=\(17 characters, not shown: not a URL/],
  ])('refuses %s, naming the variable', (value, message) => {
    expect(() => loadConfig({ DATABASE_URL: value })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: value })).toThrow(message);
  });

  it('never echoes a password', () => {
    for (const value of ['mysql://concord:hunter2@db/concord', 'postgres//concord:hunter2@db/concord']) {
      expect(() => loadConfig({ DATABASE_URL: value })).toThrow(ConfigError);
      expect(() => loadConfig({ DATABASE_URL: value })).not.toThrow(/hunter2/);
    }
    expect(() => loadConfig({ DATABASE_URL: 'mysql://concord:hunter2@db/concord' })).toThrow('mysql://concord:***@db/concord');
  });
});
