// The fleet use case (core/deploy/fleet.ts): which devices a fleet deploy goes to, each once.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePaths } from '../../../../core/config/paths.js';
import { fleetTargets, sessionTimings } from '../../../../core/deploy/fleet.js';
import { FlightDeckError } from '../../../../core/errors.js';

const paths = () => resolvePaths({ FLIGHTDECK_HOME: mkdtempSync(path.join(os.tmpdir(), 'fd-fleet-')) });

describe('fleetTargets', () => {
  it('keeps each device once, by its URI, in the order given; an unknown name stays to fail on its own line', () => {
    const p = paths();
    expect(fleetTargets(['tcp://127.0.0.1:7001', 'nosuch', 'tcp://127.0.0.1:7002', 'TCP://127.0.0.1:7001', 'nosuch'], undefined, p)).toEqual([
      'tcp://127.0.0.1:7001',
      'nosuch',
      'tcp://127.0.0.1:7002',
    ]);
  });

  it('no devices at all is a usage error with a hint', () => {
    let err: unknown;
    try {
      fleetTargets([], undefined, paths());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FlightDeckError);
    expect(err).toMatchObject({ code: 'USAGE', hint: expect.stringContaining('--all-matching') });
  });
});

describe('sessionTimings', () => {
  it('a request timeout sets the reply timeout; none keeps the defaults', () => {
    expect(sessionTimings(1500)).toEqual({ replyMs: 1500 });
    expect(sessionTimings(undefined)).toEqual({});
  });
});
