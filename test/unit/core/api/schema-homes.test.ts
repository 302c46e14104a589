import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../../support/cli.js';
import * as contract from '../../../../core/api/contract.js';
import * as protocol from '../../../../core/deploy/protocol.js';
import * as deploySchema from '../../../../core/deploy/schema.js';
import * as wasmSchema from '../../../../core/wasm/schema.js';
import * as platformSchema from '../../../../core/platforms/schema.js';
import * as kitSchema from '../../../../core/kits/schema.js';
import * as doctorSchema from '../../../../core/doctor/schema.js';
import * as ociSchema from '../../../../core/oci/schema.js';
import * as credentialsSchema from '../../../../core/credentials/schema.js';
import * as labSchema from '../../../../core/lab/schema.js';

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

  it('the contracts/ files only compose: each exports its table of entries and nothing else', async () => {
    const dir = path.join(ROOT, 'core/api/contracts');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const mod = (await import(path.join(dir, file))) as Record<string, unknown>;
      const expected = file === 'events.ts' ? ['progressEvents'] : [`${file.replace(/\.ts$/, '')}Contract`];
      expect(Object.keys(mod).sort(), `core/api/contracts/${file} exports`).toEqual(expected);
      expect(readFileSync(path.join(dir, file), 'utf8'), file).not.toMatch(/^export \*/m);
    }
    // Results that used to be declared in the contracts now live in their modules; the contract re-exports those objects.
    expect(contract.PullResultSchema).toBe(ociSchema.PullResultSchema);
    expect(contract.contract['registry.pull'].output).toBe(ociSchema.PullResultSchema);
    expect(contract.contract['credentials.list'].output.shape.credentials.element).toBe(credentialsSchema.CredentialListingSchema);
    expect(contract.contract['app.version'].output).toBe(doctorSchema.VersionInfoSchema);
    expect(contract.contract['emulators.start'].output).toBe(deploySchema.LocalEmulatorSchema);
    expect(contract.contract['check.export'].input.shape.format).toBe(platformSchema.ReportFormatSchema);
    expect(contract.contract['lab.status'].output).toBe(labSchema.LabStatusResultSchema);
    expect(contract.contract['lab.deploy'].events).toBe(labSchema.LabDeployEventSchema);
  });

  it('the deploy protocol parses INFO and STATE with the same schemas the api answers with', () => {
    expect(protocol.InfoSchema).toBe(deploySchema.DeviceInfoSchema);
    expect(protocol.StateSchema).toBe(deploySchema.DeviceStateSchema);
  });

  it('the schema homes are browser-safe: they import zod, other schema homes, core/errors, or a sibling of plain constants', () => {
    for (const file of [
      'core/deploy/schema.ts',
      'core/wasm/schema.ts',
      'core/platforms/schema.ts',
      'core/kits/schema.ts',
      'core/doctor/schema.ts',
      'core/oci/schema.ts',
      'core/credentials/schema.ts',
      'core/lab/schema.ts',
    ]) {
      const imports = [...readFileSync(path.join(ROOT, file), 'utf8').matchAll(/^import [^;]* from '([^']+)';$/gm)].map((m) => m[1]!);
      for (const spec of imports) {
        expect(spec, `${file} imports ${spec}`).toMatch(/^(zod|\.\.\/errors\.js|\.\.\/[a-z]+\/schema\.js|\.\/[a-z-]+\.js)$/);
        // A sibling (core/wasm/features.ts, core/kits/includes.ts, core/lab/names.ts: constants the CLI names
        // without building the schemas) imports nothing at all.
        if (spec.startsWith('./')) {
          const sibling = readFileSync(path.join(ROOT, path.dirname(file), spec.replace(/\.js$/, '.ts')), 'utf8');
          expect(sibling, `${file} imports ${spec}, which imports`).not.toMatch(/^\s*(import|export [^;]* from) /m);
        }
      }
    }
  });
});
