import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../../support/cli.js';
import * as contract from '../../../../core/api/contract.js';
import * as protocol from '../../../../core/deploy/protocol.js';
import * as deploySchema from '../../../../core/deploy/schema.js';
import * as wasmSchema from '../../../../core/wasm/schema.js';
import * as platformSchema from '../../../../core/platforms/schema.js';
import * as kitSchema from '../../../../core/kits/schema.js';
import * as doctorSchema from '../../../../core/doctor/schema.js';

// Issue 16: each domain schema has one home, core/<module>/schema.ts; the contract composes those very
// objects (no copies that can drift), and the wire protocol parses device messages with them.
describe('one home for every schema', () => {
  it('the contract and its entries use the modules’ own schema objects, not copies', () => {
    expect(contract.DeviceInfoSchema).toBe(deploySchema.DeviceInfoSchema);
    expect(contract.DeviceStateSchema).toBe(deploySchema.DeviceStateSchema);
    expect(contract.ReceiptSchema).toBe(deploySchema.ReceiptSchema);
    expect(contract.contract['device.status'].output.shape.info).toBe(deploySchema.DeviceInfoSchema);
    expect(contract.contract['device.status'].output.shape.state).toBe(deploySchema.DeviceStateSchema);
    expect(contract.contract['deploy.run'].output).toBe(deploySchema.DeployResultSchema);
    expect(contract.contract['wasm.inspect'].output).toBe(wasmSchema.InspectResultSchema);
    expect(contract.contract['wasm.check'].output).toBe(platformSchema.CheckReportSchema);
    expect(contract.contract['kit.verify'].output).toBe(kitSchema.KitVerifySchema);
    expect(contract.contract['doctor.run'].output).toBe(doctorSchema.DoctorReportSchema);
  });

  it('the deploy protocol parses INFO and STATE with the same schemas the api answers with', () => {
    expect(protocol.InfoSchema).toBe(deploySchema.DeviceInfoSchema);
    expect(protocol.StateSchema).toBe(deploySchema.DeviceStateSchema);
  });

  it('the schema homes are browser-safe: they import zod and other schema homes or core/errors only', () => {
    for (const file of ['core/deploy/schema.ts', 'core/wasm/schema.ts', 'core/platforms/schema.ts', 'core/kits/schema.ts', 'core/doctor/schema.ts']) {
      const imports = [...readFileSync(path.join(ROOT, file), 'utf8').matchAll(/^import [^;]* from '([^']+)';$/gm)].map((m) => m[1]);
      for (const spec of imports) expect(spec, `${file} imports ${spec}`).toMatch(/^(zod|\.\.\/errors\.js|\.\.\/[a-z]+\/schema\.js)$/);
    }
  });
});
