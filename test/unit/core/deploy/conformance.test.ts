import { describe, expect, it } from 'vitest';
import { runConformance } from '../../../../core/deploy/conformance.js';
import { inProcessDevice } from '../../../support/device.js';

describe('device conformance suite against the in-process reference device (issue 21)', () => {
  it('passes every check', async () => {
    const d = inProcessDevice();
    const report = await runConformance({ open: async () => d.connect().transport, timings: { replyMs: 2000, ackMs: 500 }, payloadSize: 32 << 10 });
    const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.id}: ${c.detail}`);
    expect(failed).toEqual([]);
    expect(report.checks.map((c) => c.id)).toEqual(
      expect.arrayContaining(['handshake', 'rollback', 'cut-upload', 'cut-verified', 'limits', 'busy', 'block-hashes']),
    );
    expect(report.checks.find((c) => c.id === 'cut-upload')?.detail).toMatch(/^resumed from byte [1-9]/);
  });
});
