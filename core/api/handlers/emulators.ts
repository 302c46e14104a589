import path from 'node:path';
import type { AreaHandlers, ApiContext } from '../context.js';
import type { LocalEmulator } from '../../deploy/schema.js';
import type { RunningEmulator } from '../../deploy/ports.js';
import { registerEmulator } from '../../deploy/devices.js';
import { FlightDeckError } from '../../errors.js';

type EmulatorMethods = 'emulators.start' | 'emulators.stop' | 'emulators.local';

export function emulatorsHandlers(ctx: ApiContext): AreaHandlers<EmulatorMethods> {
  // Registrations are keyed by process id (core/deploy/devices.ts): one local emulator per app process.
  let local: { info: LocalEmulator; emulator: RunningEmulator; unregister: () => void } | undefined;
  const stop = async (): Promise<LocalEmulator | null> => {
    const current = local;
    if (!current) return null;
    local = undefined;
    current.unregister();
    await current.emulator.close();
    return current.info;
  };
  return {
    async 'emulators.start'({ platform }) {
      const port = ctx.deps.emulators;
      if (!port) throw new FlightDeckError('INTERNAL', 'This front end was started without the local emulator (no emulator port).');
      if (local) {
        throw new FlightDeckError('INVALID_INPUT', `A local emulator already runs: ${local.info.name} on ${local.info.uri}.`, {
          hint: 'Stop it first; one local emulator runs per app (start more with `flightdeck emulate`).',
        });
      }
      const stateDir = path.join(ctx.paths.data, 'emulators', `local-${platform}`);
      const emulator = await port.start({ platform, stateDir, paths: ctx.paths });
      const info: LocalEmulator = { uri: emulator.uri, platform: emulator.platform, name: `local-${emulator.platform}`, stateDir };
      const unregister = registerEmulator(ctx.paths, { pid: process.pid, ...info });
      local = { info, emulator, unregister };
      return info;
    },
    async 'emulators.stop'() {
      return { stopped: await stop() };
    },
    async 'emulators.local'() {
      return { emulator: local?.info ?? null };
    },
  };
}
