import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBase64 } from '@provenant/core';
import {
  ConfigError,
  loadConfig,
  bootstrapAdminToken,
  DEFAULT_LOG_ORIGIN,
  MASTER_KEY_FILE,
} from './config.js';
import { hashToken } from '@provenant/server-kit';

const KEY = toBase64(new Uint8Array(32).fill(7));
let dir: string;
const warnings: string[] = [];
const warn = (m: string) => void warnings.push(m);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'provenant-config-'));
  warnings.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, { warn });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration from the environment (DESIGN §8a)', () => {
  it('applies the defaults and is silent in tests', () => {
    const c = loadConfig(
      { PROVENANT_DATA_DIR: dir, PROVENANT_MASTER_KEY: KEY, JEST_WORKER_ID: '1' },
      { warn },
    );
    expect(c.port).toBe(8080);
    expect(c.databaseUrl).toBeNull();
    expect(c.logOrigin).toBe(DEFAULT_LOG_ORIGIN);
    expect(c.logLevel).toBe('silent');
    expect(c.masterKeySource).toBe('env');
    expect(c.adminTokenHash).toBeNull();
  });

  it('generates the embedded master key once, mode 0600, with a warning, and reuses it', () => {
    const first = loadConfig({ PROVENANT_DATA_DIR: dir }, { warn });
    expect(first.masterKeySource).toBe('generated');
    expect(first.masterKey.length).toBe(32);
    expect(statSync(join(dir, MASTER_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(warnings).toHaveLength(1);
    const second = loadConfig({ PROVENANT_DATA_DIR: dir }, { warn });
    expect(second.masterKeySource).toBe('file');
    expect(second.masterKey).toEqual(first.masterKey);
  });

  it('refuses to start on PostgreSQL without a master key', () => {
    const err = errorOf({ DATABASE_URL: 'postgres://u:pw@db/provenant', PROVENANT_DATA_DIR: dir });
    expect(err.variable).toBe('PROVENANT_MASTER_KEY');
    expect(err.code).toBe('CONFIG_INVALID');
  });

  it.each([
    ['PROVENANT_MASTER_KEY', 'c2VjcmV0LXRvby1zaG9ydA=='],
    ['PROVENANT_MASTER_KEY', ''],
    ['PORT', 'eighty'],
    ['LOG_LEVEL', 'loud'],
    ['DATABASE_URL', 'mysql://secret-password@db'],
    ['PROVENANT_LOG_ORIGIN', 'has space'],
    ['PROVENANT_ADMIN_TOKEN', 'short'],
    ['PROVENANT_MAX_BACKDATE', '72 hours'],
    ['PROVENANT_MAX_BACKDATE', '-1h'],
    ['PROVENANT_MAX_BACKDATE', '30s'],
    ['PROVENANT_MAX_BACKDATE', '9999d'],
  ])('names %s when its value %j is bad, without echoing the value', (variable, value) => {
    const err = errorOf({ PROVENANT_DATA_DIR: dir, PROVENANT_MASTER_KEY: KEY, [variable]: value });
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    if (value) expect(err.message).not.toContain(value);
  });

  it('reads PROVENANT_MAX_BACKDATE as 72h, 3d, 90m or seconds, default 72 hours (DESIGN §5)', () => {
    const read = (v?: string) =>
      loadConfig(
        {
          PROVENANT_DATA_DIR: dir,
          PROVENANT_MASTER_KEY: KEY,
          ...(v === undefined ? {} : { PROVENANT_MAX_BACKDATE: v }),
        },
        { warn },
      ).maxBackdateMs;
    const HOUR = 3_600_000;
    expect(read()).toBe(72 * HOUR);
    expect(read('72h')).toBe(72 * HOUR);
    expect(read('3d')).toBe(72 * HOUR);
    expect(read('90m')).toBe(1.5 * HOUR);
    expect(read('3600s')).toBe(HOUR);
    expect(read('259200')).toBe(72 * HOUR);
  });

  it('stores only the hash of PROVENANT_ADMIN_TOKEN', () => {
    const token = 'operator-token-0123456789';
    const c = loadConfig(
      { PROVENANT_DATA_DIR: dir, PROVENANT_MASTER_KEY: KEY, PROVENANT_ADMIN_TOKEN: token },
      { warn },
    );
    expect(c.adminTokenHash).toEqual(hashToken(token));
    expect(JSON.stringify(c)).not.toContain(token);
  });

  it('generates and prints an admin token only on the first start', async () => {
    const c = loadConfig({ PROVENANT_DATA_DIR: dir, PROVENANT_MASTER_KEY: KEY }, { warn });
    const saved: Uint8Array[] = [];
    const printed: string[] = [];
    const hooks = {
      hasAdminToken: async () => saved.length > 0,
      saveAdminTokenHash: async (h: Uint8Array) => void saved.push(h),
      print: (l: string) => void printed.push(l),
    };
    const token = await bootstrapAdminToken(c, hooks);
    expect(token).toMatch(/^pvn_[A-Za-z0-9_-]{43}$/);
    expect(saved).toEqual([hashToken(token!)]);
    expect(printed.join()).toContain(token);
    expect(await bootstrapAdminToken(c, hooks)).toBeNull();
    expect(printed).toHaveLength(1);
  });
});
