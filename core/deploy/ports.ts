/**
 * The ports core/deploy needs from a composition root (composition/ wires native-bridge and emulator/
 * into them): device transports and discovery, and the reference emulator started in this process.
 */
import type { FlightDeckPaths } from '../config/paths.js';
import type { DeviceFinder, TransportOpener } from './transport.js';

/** Device transports and discovery (native-bridge implements them with serialport, usb and node:net). */
export interface DeployPorts {
  openTransport: TransportOpener;
  finder: DeviceFinder;
}

/** A running reference emulator, as the composition root starts it (emulator/ lives outside core). */
export interface RunningEmulator {
  uri: string;
  platform: string;
  close(): Promise<void>;
}

/** The port that starts the reference emulator in this process, listening on tcp://127.0.0.1:0. */
export interface EmulatorPort {
  start(o: { platform: string; stateDir: string; paths: FlightDeckPaths }): Promise<RunningEmulator>;
}
