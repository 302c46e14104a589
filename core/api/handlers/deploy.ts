import type { AreaHandlers, ApiContext } from '../context.js';
import type { CallContext } from '../dispatch.js';
import { FlightDeckError } from '../../errors.js';
import { listDevices, resolveDevice } from '../../deploy/devices.js';
import { listReceipts, saveSession, type SessionRecord } from '../../deploy/receipts.js';
import { HostSession } from '../../deploy/session.js';
import { parseDeviceUri, type ByteTransport } from '../../deploy/transport.js';
import type { DeployPorts } from '../../deploy/ports.js';
import { profileCheck } from '../../deploy/check.js';
import { resolvePayload } from '../../deploy/source.js';
import { deployFleet, deployToDevice, fleetTargets, sessionTimings, type DeployContext } from '../../deploy/fleet.js';

type DeployMethods = 'deploy.run' | 'deploy.fleet' | 'receipts.list' | 'devices.list' | 'device.status' | 'device.rollback' | 'device.monitor';

/** The deploy area: the use cases live in core/deploy (source.ts, fleet.ts); these handlers map calls onto them. */
export function deployHandlers(ctx: ApiContext): AreaHandlers<DeployMethods> {
  const { paths } = ctx;
  const ports = (): DeployPorts => {
    if (!ctx.deps.deploy) throw new FlightDeckError('INTERNAL', 'This front end was started without device support (no deploy ports).');
    return ctx.deps.deploy;
  };
  const open = async (ref: string): Promise<{ uri: string; transport: ByteTransport }> => {
    const uri = resolveDevice(ref, paths);
    return { uri, transport: await ports().openTransport(parseDeviceUri(uri)) };
  };
  const payloadOf = (input: { payload: string; module?: string | undefined; offline?: boolean | undefined }, call: Pick<CallContext, 'signal'>) =>
    resolvePayload(ctx.registry, paths, input.payload, input.module, Boolean(input.offline), call.signal);
  const deployContext = <E>(call: { emit: (event: E) => void; signal: AbortSignal | undefined }): DeployContext<E> => ({
    paths,
    // Looked up when a device is opened: without device support, each device fails with INTERNAL.
    openTransport: (uri) => ports().openTransport(uri),
    emit: call.emit,
    signal: call.signal,
  });
  /** A session for one short request; always closed. It emits nothing: the caller's handler emits its own events. */
  const withSession = async <T>(
    ref: string,
    timeoutMs: number | undefined,
    call: Pick<CallContext, 'signal'>,
    fn: (s: HostSession, uri: string) => Promise<T>,
  ): Promise<T> => {
    const { uri, transport } = await open(ref);
    const session = await HostSession.open(transport, { timings: sessionTimings(timeoutMs), ...(call.signal ? { signal: call.signal } : {}) });
    try {
      return await fn(session, uri);
    } finally {
      await session.close().catch(() => {});
    }
  };

  return {
    async 'deploy.run'(input, call) {
      const payload = await payloadOf(input, call);
      return deployToDevice(payload, input.device, input, deployContext(call), profileCheck(paths));
    },
    async 'deploy.fleet'(input, call) {
      const refs = fleetTargets(input.devices, input.allMatching, paths);
      const payload = await payloadOf(input, call);
      return deployFleet(payload, refs, input, deployContext(call), profileCheck(paths));
    },
    async 'receipts.list'(input) {
      return { receipts: await listReceipts(paths, input.device) };
    },
    async 'devices.list'() {
      return listDevices(ctx.deps.deploy?.finder, paths);
    },
    async 'device.status'(input, call) {
      return withSession(input.device, input.timeoutMs, call, async (s, uri) => ({ device: uri, info: s.info, state: await s.status() }));
    },
    async 'device.rollback'(input, call) {
      return withSession(input.device, input.timeoutMs, call, async (s, uri) => ({ device: uri, state: await s.rollback() }));
    },
    async 'device.monitor'(input, call) {
      return withSession(input.device, input.timeoutMs, call, async (s, uri) => {
        const lines: SessionRecord['lines'] = [];
        // A saved session names the payload the device runs (asked first: Ctrl+C ends the session's signal).
        const state = input.save ? await s.status() : undefined;
        try {
          await s.monitor(input.follow, (line) => {
            lines.push({ time: new Date().toISOString(), ...line });
            call.emit({ type: 'log', ...line });
          });
        } catch (err) {
          // Following ends when the user stops it or the device goes away; both are a normal end.
          if (!(input.follow && err instanceof FlightDeckError && (err.code === 'ABORTED' || err.code === 'DEVICE_DISCONNECTED'))) throw err;
        }
        if (!input.save) return { device: uri, lines: lines.length };
        // Link the session to the deploy that put the active payload there (its newest receipt).
        const active = state?.active ? state.slots[state.active]?.sha256 : undefined;
        const receipt = active ? (await listReceipts(paths, uri)).find((r) => r.payload.sha256 === active) : undefined;
        const saved = await saveSession(input.save, { device: uri, receipt: receipt?.id ?? null, payloadSha256: active ?? null, lines });
        return { device: uri, lines: lines.length, saved };
      });
    },
  };
}
