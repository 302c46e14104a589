import type { AreaHandlers, ApiContext } from '../service.js';
import type { CallContext } from '../dispatch.js';
import { FlightDeckError } from '../../errors.js';
import { deploy } from '../../deploy/deploy.js';
import { listDevices, resolveDevice } from '../../deploy/devices.js';
import { existsSync } from 'node:fs';
import { loadPayload, type Payload } from '../../deploy/payload.js';
import { MEDIA } from '../../oci/manifest.js';
import { isRegistryReference, parseReference } from '../../oci/reference.js';
import { checkSignaturePolicy, loadPolicy } from '../../kits/signatures.js';
import { HostSession, type SessionTimings } from '../../deploy/session.js';
import { parseDeviceUri, type ByteTransport, type DeviceFinder, type TransportOpener } from '../../deploy/transport.js';
import { profileCheck } from '../../deploy/check.js';

/** The ports deploy needs from the composition root (native-bridge implements them). */
export interface DeployPorts {
  openTransport: TransportOpener;
  finder: DeviceFinder;
}

type DeployMethods = 'deploy.run' | 'devices.list' | 'device.status' | 'device.rollback' | 'device.monitor';

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
  /**
   * A file path, or a registry / `oci:` reference pulled into the verified content store first: its WASM
   * layer, or its bundle layer (one module picked with `module`).
   */
  const resolvePayload = async (ref: string, module: string | undefined, offline: boolean, signal: AbortSignal | undefined): Promise<Payload> => {
    if (!ref.startsWith('oci:') && !(isRegistryReference(ref) && !existsSync(ref))) return loadPayload(ref, module);
    const conn = { offline };
    const pulled = await ctx.registry.pullToStore(ref, conn, { signal });
    // The signature policy (docs/kits.md) applies to what comes from a registry, as for `kit build`.
    const parsed = parseReference(ref);
    if (parsed.kind === 'registry') await checkSignaturePolicy(ctx.registry, await loadPolicy(paths), parsed, pulled.digest, conn);
    const wasmLayer = pulled.layers.find((l) => ([MEDIA.wasmLayer, MEDIA.wasm] as string[]).includes(l.mediaType));
    const layer = module ? pulled.layers.find((l) => l.mediaType === MEDIA.tarGzip) : (wasmLayer ?? pulled.layers.find((l) => l.mediaType === MEDIA.tarGzip));
    if (!layer) {
      throw new FlightDeckError('PAYLOAD_INVALID', `${ref} holds no WASM module or tar+gzip bundle layer to deploy.`, {
        hint: 'Deploy a wasm/<name> or bundles/<platform> artifact, e.g. flight/shared-types/bundles/vita:latest.',
        details: { reference: ref },
      });
    }
    const p = await loadPayload(pulled.store.blobPath(layer.digest), module);
    const inside = p.name.includes('!') ? p.name.slice(p.name.indexOf('!')) : '';
    return { ...p, name: `${ref}${inside}` };
  };
  const timings = (timeoutMs: number | undefined): Partial<SessionTimings> => (timeoutMs ? { replyMs: timeoutMs } : {});
  /** A session for one short request; always closed. */
  const withSession = async <T>(ref: string, timeoutMs: number | undefined, call: CallContext, fn: (s: HostSession, uri: string) => Promise<T>): Promise<T> => {
    const { uri, transport } = await open(ref);
    const session = await HostSession.open(transport, { timings: timings(timeoutMs), ...(call.signal ? { signal: call.signal } : {}) });
    try {
      return await fn(session, uri);
    } finally {
      await session.close().catch(() => {});
    }
  };

  return {
    async 'deploy.run'(input, call) {
      const payload = await resolvePayload(input.payload, input.module, Boolean(input.offline), call.signal);
      const { transport } = await open(input.device);
      return deploy(payload, transport, profileCheck(paths), {
        ...(input.platform ? { platform: input.platform } : {}),
        force: input.force,
        resume: input.resume,
        run: input.run,
        compression: input.compression,
        ...(input.lineRate ? { lineRate: input.lineRate } : {}),
        timings: timings(input.timeoutMs),
        ...(call.signal ? { signal: call.signal } : {}),
        onPhase: (phase) => call.emit({ type: 'phase', phase }),
        onProgress: (p) => call.emit({ type: 'progress', phase: 'upload', ...p }),
        onLog: (line) => call.emit({ type: 'log', ...line }),
      });
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
        let lines = 0;
        try {
          await s.monitor(input.follow, (line) => {
            lines++;
            call.emit({ type: 'log', ...line });
          });
        } catch (err) {
          // Following ends when the user stops it or the device goes away; both are a normal end.
          if (!(input.follow && err instanceof FlightDeckError && (err.code === 'ABORTED' || err.code === 'DEVICE_DISCONNECTED'))) throw err;
        }
        return { device: uri, lines };
      });
    },
  };
}
