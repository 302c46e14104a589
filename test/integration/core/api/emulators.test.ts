import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../../core/api/dispatch.js';
import { createHandlers } from '../../../../core/api/service.js';
import { resolvePaths } from '../../../../core/config/paths.js';
import { nativeApiDeps } from '../../../../composition/deps.js';
import type { LocalEmulator } from '../../../../core/api/contract.js';
import { tempHome } from '../../../support/cli.js';
import { activePayload } from '../../../support/emulator.js';
import { helloModule } from '../../../support/wasm.js';

// The local emulator as the app starts it: the api entry, the composition root's port (native-bridge), the
// real reference emulator listening on loopback, registered so devices.list shows it.
const home = tempHome();
const paths = resolvePaths({ FLIGHTDECK_HOME: home });
const handlers = createHandlers({ ...nativeApiDeps(), paths });

afterAll(async () => {
  await dispatch(handlers, 'emulators.stop', {});
});

/** The emulators devices.list shows (the machine's own serial ports and USB devices are listed too). */
async function emulators() {
  const r = await dispatch(handlers, 'devices.list', {});
  if (!r.ok) throw new Error(r.error.message);
  return (r.value as { devices: Array<{ kind: string }> }).devices.filter((d) => d.kind === 'emulator');
}

const refuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

describe('emulators.start / stop (the Devices screen’s local emulator)', () => {
  it('starts a Vita kit under the data dir, listed by devices.list, deployable and running payloads; stops it', async () => {
    expect(await dispatch(handlers, 'emulators.local', {})).toEqual({ ok: true, value: { emulator: null } });
    const started = await dispatch(handlers, 'emulators.start', { platform: 'vita' });
    expect(started.ok).toBe(true);
    const emu = (started as { value: LocalEmulator }).value;
    expect(emu).toMatchObject({ platform: 'vita', name: 'local-vita', uri: expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/) });
    expect(emu.stateDir.startsWith(paths.data)).toBe(true);
    expect(await dispatch(handlers, 'emulators.local', {})).toEqual({ ok: true, value: { emulator: emu } });

    expect(await emulators()).toEqual([{ kind: 'emulator', name: 'local-vita', uri: emu.uri, platform: 'vita' }]);

    const again = await dispatch(handlers, 'emulators.start', { platform: 'dreamcast' });
    expect(again).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: expect.stringContaining(emu.uri) } });

    const bytes = helloModule('hello from the local kit\n', 0);
    const file = path.join(home, 'hello.wasm');
    writeFileSync(file, bytes);
    const logs: string[] = [];
    const deployed = await dispatch(
      handlers,
      'deploy.run',
      { payload: file, device: 'local-vita', run: true },
      { emit: (e) => e.type === 'log' && logs.push(String(e.text)) },
    );
    expect(deployed).toMatchObject({ ok: true, value: { outcome: 'committed', device: emu.uri, exitCode: 0 } });
    expect(logs).toContain('hello from the local kit\n');
    expect(activePayload(emu.stateDir)).toEqual(bytes);

    expect(await dispatch(handlers, 'emulators.stop', {})).toEqual({ ok: true, value: { stopped: emu } });
    expect(await refuses(Number(new URL(emu.uri).port))).toBe(true);
    expect(await emulators()).toEqual([]);
    expect(await dispatch(handlers, 'emulators.stop', {})).toEqual({ ok: true, value: { stopped: null } });
  });

  it('an unknown platform is PLATFORM_UNKNOWN naming it, and starts nothing', async () => {
    expect(await dispatch(handlers, 'emulators.start', { platform: 'gamecube' })).toMatchObject({
      ok: false,
      error: { code: 'PLATFORM_UNKNOWN', message: expect.stringContaining('gamecube') },
    });
    expect(await dispatch(handlers, 'emulators.local', {})).toEqual({ ok: true, value: { emulator: null } });
  });
});
