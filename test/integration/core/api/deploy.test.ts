import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../../core/api/dispatch.js';
import { createHandlers } from '../../../../core/api/service.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { deployPorts } from '../../../../native-bridge/transports.js';
import { startEmulator, type Emulator } from '../../../../emulator/emulator.js';
import { tempHome } from '../../../support/cli.js';
import { activePayload, readSlots, stateDir } from '../../../support/emulator.js';
import { ptyPair, type PtyPair } from '../../../support/pty.js';
import { codeModule, withCustomSection } from '../../../support/wasm.js';
import { randomBytes } from 'node:crypto';

let pty: PtyPair;
let emu: Emulator;
const dir = stateDir();
const home = tempHome();
const handlers = createHandlers({ probes: [], deploy: deployPorts, paths: resolvePaths({ FLIGHTDECK_HOME: home }) });

beforeAll(async () => {
  pty = await ptyPair();
  emu = await startEmulator({ platform: 'v6r-small', serial: pty.device, lineRate: 460800, stateDir: dir, checkpointBytes: 4096 });
});
afterAll(async () => {
  await emu.close();
  await pty.close();
});

describe('deploy through the api contract (as the UI calls it)', () => {
  it('emits progress, cancels on the AbortSignal with ABORTED, and the next call resumes', async () => {
    const bytes = withCustomSection(codeModule(200, 5), 'noise', randomBytes(120_000)); // ~2.6 s at 46 kB/s
    const file = path.join(home, 'p.wasm');
    writeFileSync(file, bytes);
    const device = `serial://${pty.host}?baud=460800`;
    const controller = new AbortController();
    const events: Array<{ type: string; [k: string]: unknown }> = [];
    const cancelled = await dispatch(
      handlers,
      'deploy.run',
      { payload: file, device },
      {
        signal: controller.signal,
        emit: (e) => {
          events.push(e);
          if (e.type === 'progress' && Number(e.done) > 40_000) controller.abort();
        },
      },
    );
    expect(cancelled).toMatchObject({ ok: false, error: { code: 'ABORTED' } });
    expect(events.filter((e) => e.type === 'phase').map((e) => e.phase)).toEqual(['connect', 'check', 'upload']);
    expect(events.find((e) => e.type === 'progress')).toMatchObject({ phase: 'upload', total: bytes.length, retries: 0 });
    expect(readSlots(dir).active).toBeNull();

    const status = await dispatch(handlers, 'device.status', { device });
    // On failure, say which error (the diff below hides it).
    if (!status.ok) console.log(`device.status failed: ${JSON.stringify(status.error)}`);
    expect(status).toMatchObject({ ok: true, value: { info: { platform: 'v6r-small', lineRate: 460800 }, state: { upload: { size: bytes.length } } } });
    const durable = (status as { value: { state: { upload: { durable: number } } } }).value.state.upload.durable;
    expect(durable).toBeGreaterThan(0);

    const done = await dispatch(handlers, 'deploy.run', { payload: file, device });
    expect(done).toMatchObject({ ok: true, value: { outcome: 'committed', resumedFrom: durable } });
    expect(activePayload(dir)).toEqual(bytes);
  });

  it('validates input against the contract and names the field', async () => {
    expect(await dispatch(handlers, 'deploy.run', { payload: 'x.wasm', device: 'tcp://h:1', compression: 'zip' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringContaining('compression') },
    });
  });
});
