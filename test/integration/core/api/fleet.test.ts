import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../../core/api/dispatch.js';
import { createHandlers } from '../../../../core/api/service.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { deployPorts } from '../../../../native-bridge/transports.js';
import type { Emulator } from '../../../../emulator/emulator.js';
import { tempHome } from '../../../support/cli.js';
import { activePayload, stateDir, tcpEmulator } from '../../../support/emulator.js';
import { codeModule } from '../../../support/wasm.js';

const home = tempHome();
const handlers = createHandlers({ probes: [], deploy: deployPorts, paths: resolvePaths({ FLIGHTDECK_HOME: home }) });
const started: Emulator[] = [];
afterAll(async () => {
  await Promise.all(started.map((e) => e.close()));
});

describe('deploy.fleet through the api contract (as the UI calls it)', () => {
  it('cancelling stops the fleet with ABORTED; devices that committed keep their receipts, the rest get nothing', async () => {
    const fastDir = stateDir();
    const slowDir = stateDir();
    const fast = await tcpEmulator({ stateDir: fastDir });
    const slow = await tcpEmulator({ stateDir: slowDir, faults: { delayMs: 300 } });
    started.push(fast, slow);
    const file = path.join(home, 'app.wasm');
    const bytes = codeModule(100, 3);
    writeFileSync(file, bytes);
    const controller = new AbortController();
    const events: Array<{ type: string; [k: string]: unknown }> = [];
    const r = await dispatch(
      handlers,
      'deploy.fleet',
      { payload: file, devices: [fast.uri, slow.uri], concurrency: 1 },
      {
        signal: controller.signal,
        emit: (e) => {
          events.push(e);
          if (e.type === 'result') controller.abort();
        },
      },
    );
    expect(r).toMatchObject({ ok: false, error: { code: 'ABORTED', message: expect.stringContaining('1 device(s) had committed') } });
    expect(events.find((e) => e.type === 'result')).toEqual({ type: 'result', device: fast.uri, ok: true });
    expect(activePayload(fastDir)).toEqual(bytes);
    expect(activePayload(slowDir)).toBeNull();

    const receipts = await dispatch(handlers, 'receipts.list', {});
    expect(receipts).toMatchObject({ ok: true, value: { receipts: [{ device: { uri: fast.uri, serial: fast.serial }, reported: { matches: true } }] } });
    expect((receipts as { value: { receipts: unknown[] } }).value.receipts).toHaveLength(1);
  });
});
