import type { AreaHandlers, ApiContext } from '../context.js';
import { labPath, loadLab } from '../../lab/load.js';
import { lockLab, readLock } from '../../lab/lock.js';
import { syncLab } from '../../lab/sync.js';
import { deployLab } from '../../lab/deploy.js';
import { labStatus, type LabPorts } from '../../lab/devices.js';
import { FlightDeckError } from '../../errors.js';

type LabMethods = 'lab.lock' | 'lab.sync' | 'lab.deploy' | 'lab.status';

/** The lab area: the use cases live in core/lab; these handlers map calls onto them. */
export function labHandlers(ctx: ApiContext): AreaHandlers<LabMethods> {
  const { paths } = ctx;
  const open = (file: string | undefined) => loadLab(labPath(process.cwd(), file), paths);
  const ports = (): LabPorts => {
    if (!ctx.deps.deploy) throw new FlightDeckError('INTERNAL', 'This front end was started without device support (no deploy ports).');
    return { openTransport: ctx.deps.deploy.openTransport, finder: ctx.deps.deploy.finder };
  };
  const conn = (i: { offline: boolean; plainHttp?: boolean | undefined; insecure?: boolean | undefined }) => ({
    offline: i.offline,
    plainHttp: i.plainHttp,
    insecure: i.insecure,
  });
  return {
    async 'lab.lock'(input, call) {
      return lockLab(await open(input.lab), ctx.registry, paths, conn(input), call.signal);
    },
    async 'lab.sync'(input, call) {
      return syncLab(await open(input.lab), ctx.registry, paths, conn(input), call.signal);
    },
    async 'lab.deploy'(input, call) {
      return deployLab(await open(input.lab), ctx.registry, ports(), paths, {
        devices: input.devices,
        force: input.force,
        conn: conn(input),
        concurrency: input.concurrency,
        timeoutMs: input.timeoutMs,
        reconnect: input.reconnect,
        signal: call.signal,
        emit: call.emit,
      });
    },
    async 'lab.status'(input, call) {
      const lab = await open(input.lab);
      const { lock, ref } = await readLock(lab);
      return labStatus(lab, lock, ref, ports(), paths, { devices: input.devices, timeoutMs: input.timeoutMs, signal: call.signal });
    },
  };
}
