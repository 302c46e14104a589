import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../../core/deploy/payload.js';
import { HostSession } from '../../../core/deploy/session.js';
import type { LogLine } from '../../../core/deploy/protocol.js';
import { inProcessDevice } from '../../support/device.js';
import { codeModule, helloModule } from '../../support/wasm.js';

const execPath = process.execPath;
afterEach(() => {
  process.execPath = execPath;
});

async function deployAndRun(payload: Buffer): Promise<{ code: number; lines: LogLine[] }> {
  const d = inProcessDevice();
  const s = await HostSession.open(d.connect().transport, { timings: { replyMs: 5000, ackMs: 2000, maxRetries: 10 } });
  try {
    const up = await s.upload(payload, sha256(payload), { compression: 'none', fresh: false });
    await s.verify(sha256(payload), payload.length, up.upload);
    await s.commit(sha256(payload), up.upload);
    const lines: LogLine[] = [];
    const code = await s.run((l) => lines.push(l));
    return { code, lines };
  } finally {
    await s.close();
  }
}

describe('the emulator runs a payload without spawning process.execPath (issue 21)', () => {
  it('RUN works when process.execPath is not a Node (the packaged app: Electron with the RunAsNode fuse off)', async () => {
    // Inside the packaged app process.execPath is the app itself; the old runner spawned it with runner.js.
    process.execPath = '/bin/false';
    const { code, lines } = await deployAndRun(helloModule('hello from the slot\n', 3));
    expect(
      lines
        .filter((l) => l.stream === 'stdout')
        .map((l) => l.text)
        .join(''),
    ).toBe('hello from the slot\n');
    expect(code).toBe(3);
  });

  it('a module without _start is loaded and its exports listed; exit 0', async () => {
    process.execPath = '/bin/false';
    const { code, lines } = await deployAndRun(codeModule(3, 1));
    expect(lines.find((l) => l.stream === 'stderr')?.text).toMatch(/^loaded; no _start, exports: memory, f0/);
    expect(code).toBe(0);
  });
});
