import { describe, expect, it } from 'vitest';
import { electronProbeFor } from '../../../native-bridge/probes.js';

describe("doctor's Electron check (issue 21)", () => {
  it('reports ok with the version when it runs inside Electron (the packaged app has no node_modules/electron)', async () => {
    const r = await electronProbeFor({ ...process.versions, electron: '33.2.1' } as NodeJS.ProcessVersions).run(new AbortController().signal);
    expect(r).toEqual({ status: 'ok', summary: 'Running inside Electron 33.2.1 (the desktop app).' });
  });

  it('outside Electron it still looks for the binary (absent on this machine: a warning, not ok)', async () => {
    const r = await electronProbeFor({ ...process.versions }).run(new AbortController().signal);
    expect(r.status).toBe('warn');
    expect(r.code).toBe('ELECTRON_UNAVAILABLE');
  });
});
