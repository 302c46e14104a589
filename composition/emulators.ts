import type { EmulatorPort } from '../core/deploy/ports.js';

/** The app's local emulator: the reference emulator in this process, on any free loopback port (loaded on first use). */
export const emulatorPort: EmulatorPort = {
  start: async ({ platform, stateDir, paths }) => {
    const { startEmulator } = await import('../emulator/emulator.js');
    return startEmulator({ platform, stateDir, paths, listen: 'tcp://127.0.0.1:0' });
  },
};
