import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePaths } from '../../../../core/config/paths.js';

describe('resolvePaths', () => {
  it('puts everything under FLIGHTDECK_HOME when set', () => {
    const p = resolvePaths({ FLIGHTDECK_HOME: '/tmp/fd-x' });
    expect(p).toEqual({
      config: '/tmp/fd-x/config',
      data: '/tmp/fd-x/data',
      cache: '/tmp/fd-x/cache',
      log: '/tmp/fd-x/log',
      home: '/tmp/fd-x',
    });
  });

  it('resolves a relative FLIGHTDECK_HOME to an absolute path', () => {
    expect(resolvePaths({ FLIGHTDECK_HOME: 'rel/home' }).config).toBe(path.resolve('rel/home', 'config'));
  });

  it('follows OS conventions otherwise (XDG on Linux)', () => {
    const p = resolvePaths({});
    expect(p.home).toBeUndefined();
    if (process.platform === 'linux') {
      expect(p.config).toMatch(/\/flightdeck$/);
      expect(p.config).toContain(process.env.XDG_CONFIG_HOME ?? '.config');
      expect(p.data).not.toBe(p.config);
    }
  });
});
