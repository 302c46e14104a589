import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../support/cli.js';

// The layer arrows of docs/architecture.md are lint rules. These tests feed the real config (eslint.config.js)
// source text as if it lived at a path in the tree, and assert which imports fail.
const eslint = new ESLint({ cwd: ROOT });

async function restricted(file: string, code: string, rule = 'no-restricted-imports'): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  const rules = rule === 'no-restricted-imports' ? [rule, '@typescript-eslint/no-restricted-imports'] : [rule];
  return (result?.messages ?? []).filter((m) => m.ruleId !== null && rules.includes(m.ruleId)).map((m) => m.message);
}

// The first lint loads the TypeScript parser and the whole config: CPU-bound set-up, not a race, so no 10 s cap.
describe('layer rules', { timeout: 60_000 }, () => {
  it('core/ may not import electron, svelte, native modules or outer layers', async () => {
    expect(await restricted('core/oci/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toHaveLength(1);
    expect(await restricted('core/x.ts', "import { mount } from 'svelte';\nexport const m = mount;\n")).toHaveLength(1);
    expect(await restricted('core/x.ts', "import keytar from 'keytar';\nexport const k = keytar;\n")).toHaveLength(1);
    expect(await restricted('core/x.ts', "import { SerialPort } from 'serialport';\nexport const s = SerialPort;\n")).toHaveLength(1);
    expect(await restricted('core/x.ts', "import { usb } from 'usb';\nexport const u = usb;\n")).toHaveLength(1);
    expect(await restricted('core/x.ts', "import { nativeProbes } from '../native-bridge/probes.js';\nexport const p = nativeProbes;\n")).toHaveLength(1);
    expect(await restricted('core/api/x.ts', "import { run } from '../../cli/main.js';\nexport const r = run;\n")).toHaveLength(1);
  });

  it('a handler imports its types from core/api/context.ts, never service.ts (which imports the handlers)', async () => {
    expect(await restricted('core/api/handlers/x.ts', "import type { ApiContext } from '../service.js';\nexport type C = ApiContext;\n")).toHaveLength(1);
    expect(await restricted('core/api/handlers/x.ts', "import type { ApiContext } from '../context.js';\nexport type C = ApiContext;\n")).toEqual([]);
    // The core rules still hold inside handlers/.
    expect(
      await restricted('core/api/handlers/x.ts', "import { startEmulator } from '../../../emulator/emulator.js';\nexport const s = startEmulator;\n"),
    ).toHaveLength(1);
  });

  it('core/ may import its own modules and node built-ins', async () => {
    expect(
      await restricted(
        'core/x.ts',
        "import { readFile } from 'node:fs/promises';\nimport { z } from 'zod';\nimport { ERROR_TABLE } from './errors.js';\nexport const a = [readFile, z, ERROR_TABLE];\n",
      ),
    ).toEqual([]);
  });

  it('core/ outside core/api may not import core/api/** (schemas live in core/<module>/schema.ts)', async () => {
    expect(await restricted('core/deploy/x.ts', "import { ReceiptSchema } from '../api/contracts/deploy.js';\nexport const r = ReceiptSchema;\n")).toHaveLength(
      1,
    );
    expect(
      await restricted('core/wasm/module/x.ts', "import type { WasmReport } from '../../api/contracts/wasm.js';\nexport type W = WasmReport;\n"),
    ).toHaveLength(1);
    expect(await restricted('core/doctor/x.ts', "import type { Capability } from '../api/contract.js';\nexport type C = Capability;\n")).toHaveLength(1);
    expect(await restricted('core/x.ts', "import { contract } from './api/contract.js';\nexport const c = contract;\n")).toHaveLength(1);
    // The module's own schema is fine, and core/api itself composes the modules' schemas.
    expect(await restricted('core/deploy/x.ts', "import { ReceiptSchema } from './schema.js';\nexport const r = ReceiptSchema;\n")).toEqual([]);
    expect(
      await restricted(
        'core/api/contracts/x.ts',
        "import { ReceiptSchema } from '../../deploy/schema.js';\nimport { contract } from '../contract.js';\nexport const r = [ReceiptSchema, contract];\n",
      ),
    ).toEqual([]);
    // The older core rules still hold where the new rule applies.
    expect(await restricted('core/deploy/x.ts', "import { run } from '../../cli/main.js';\nexport const r = run;\n")).toHaveLength(1);
  });

  it('native modules load only inside native-bridge/', async () => {
    const code = "import keytar from 'keytar';\nexport const k = keytar;\n";
    expect(await restricted('native-bridge/keychain/x.ts', code)).toEqual([]);
    expect(await restricted('cli/commands/x.ts', code)).toHaveLength(1);
    expect(await restricted('electron/main/x.ts', code)).toHaveLength(1);
    expect(await restricted('renderer/src/lib/x.ts', code)).toHaveLength(1);
  });

  it('electron is imported only inside electron/', async () => {
    const code = "import { app } from 'electron';\nexport const a = app;\n";
    expect(await restricted('electron/main/x.ts', code)).toEqual([]);
    expect(await restricted('cli/x.ts', code)).toHaveLength(1);
    expect(await restricted('native-bridge/x.ts', code)).toHaveLength(1);
  });

  it('native-bridge/ holds adapters only: it may not import emulator/, the api handlers or the composition root', async () => {
    expect(await restricted('native-bridge/x.ts', "import { startEmulator } from '../emulator/emulator.js';\nexport const s = startEmulator;\n")).toHaveLength(
      1,
    );
    expect(
      await restricted('native-bridge/serial/x.ts', "import { deployHandlers } from '../../core/api/handlers/deploy.js';\nexport const d = deployHandlers;\n"),
    ).toHaveLength(1);
    expect(
      await restricted('native-bridge/x.ts', "import type { EmulatorPort } from '../core/api/handlers/emulators.js';\nexport type P = EmulatorPort;\n"),
    ).toHaveLength(1);
    expect(await restricted('native-bridge/x.ts', "import { nativeApiDeps } from '../composition/deps.js';\nexport const n = nativeApiDeps;\n")).toHaveLength(
      1,
    );
    // The ports it implements live in core beside the module that uses them.
    expect(await restricted('native-bridge/x.ts', "import type { DeployPorts } from '../core/deploy/ports.js';\nexport type P = DeployPorts;\n")).toEqual([]);
    // A dynamic import is held to the same arrows (the emulator used to be loaded lazily from here).
    const lazy = (spec: string) => `export const start = async () => (await import('${spec}')).startEmulator;\n`;
    expect(await restricted('native-bridge/x.ts', lazy('../emulator/emulator.js'), 'no-restricted-syntax')).toHaveLength(1);
    expect(await restricted('native-bridge/x.ts', lazy('../core/api/handlers/emulators.js'), 'no-restricted-syntax')).toHaveLength(1);
    expect(await restricted('native-bridge/x.ts', lazy('./serial/index.js'), 'no-restricted-syntax')).toEqual([]);
    expect(await restricted('composition/x.ts', lazy('../emulator/emulator.js'), 'no-restricted-syntax')).toEqual([]);
  });

  it('the composition root (composition/) may import native-bridge/, emulator/ and core/, but no native module itself', async () => {
    const wiring =
      "import { startEmulator } from '../emulator/emulator.js';\nimport { deployPorts } from '../native-bridge/transports.js';\nimport { deployHandlers } from '../core/api/handlers/deploy.js';\nexport const w = [startEmulator, deployPorts, deployHandlers];\n";
    expect(await restricted('composition/x.ts', wiring)).toEqual([]);
    expect(await restricted('composition/x.ts', "import keytar from 'keytar';\nexport const k = keytar;\n")).toHaveLength(1);
    expect(await restricted('composition/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toHaveLength(1);
    // cli/ and electron/ start from it; core/ and the renderer may not reach it.
    const root = "import { nativeApiDeps } from '../composition/deps.js';\nexport const n = nativeApiDeps;\n";
    expect(await restricted('cli/x.ts', root)).toEqual([]);
    expect(await restricted('electron/x.ts', root)).toEqual([]);
    expect(await restricted('core/x.ts', root)).toHaveLength(1);
    expect(await restricted('renderer/src/x.ts', root)).toHaveLength(1);
  });

  it('the emulator (a device) takes protocol constants from the protocol, never from the host session', async () => {
    expect(
      await restricted('emulator/device.ts', "import { RATE_FALLBACK_MS } from '../core/deploy/session.js';\nexport const r = RATE_FALLBACK_MS;\n"),
    ).toHaveLength(1);
    expect(await restricted('emulator/x.ts', "import { deploy } from '../core/deploy/deploy.js';\nexport const d = deploy;\n")).toHaveLength(1);
    expect(
      await restricted('emulator/device.ts', "import { RATE_FALLBACK_MS } from '../core/deploy/protocol.js';\nexport const r = RATE_FALLBACK_MS;\n"),
    ).toEqual([]);
    expect(await restricted('emulator/x.ts', "import keytar from 'keytar';\nexport const k = keytar;\n")).toHaveLength(1);
  });

  it('the renderer imports only the api client, the contract and error types', async () => {
    const ok =
      "import { createClient } from '../../../core/api/client.js';\nimport type { Method } from '../../../core/api/contract.js';\nimport type { ErrorCode } from '../../../core/errors.js';\nexport const c: [typeof createClient, Method?, ErrorCode?] = [createClient];\n";
    expect(await restricted('renderer/src/lib/x.ts', ok)).toEqual([]);
    expect(await restricted('renderer/src/lib/x.ts', "import { dispatch } from '../../../core/api/dispatch.js';\nexport const d = dispatch;\n")).toHaveLength(
      1,
    );
    expect(await restricted('renderer/src/lib/x.ts', "import { readFile } from 'node:fs';\nexport const r = readFile;\n")).toHaveLength(1);
    expect(await restricted('renderer/src/lib/x.ts', "import { run } from '../../../cli/main.js';\nexport const r = run;\n")).toHaveLength(1);
  });

  it('the renderer imports only types from core/errors.ts (errors arrive whole from the api)', async () => {
    expect(
      await restricted(
        'renderer/src/lib/x.ts',
        "import type { ErrorCode } from '../../../core/errors.js';\nexport const c: ErrorCode | undefined = undefined;\n",
      ),
    ).toEqual([]);
    expect(
      await restricted(
        'renderer/src/lib/x.ts',
        "import { type ErrorCode, type ErrorPayload } from '../../../core/errors.js';\nexport const c: [ErrorCode?, ErrorPayload?] = [];\n",
      ),
    ).toEqual([]);
    expect(await restricted('renderer/src/lib/x.ts', "import { ERROR_TABLE } from '../../../core/errors.js';\nexport const t = ERROR_TABLE;\n")).toHaveLength(
      1,
    );
    expect(
      await restricted('renderer/src/views/devices/x.svelte.ts', "import { ERROR_TABLE } from '../../../../core/errors.js';\nexport const t = ERROR_TABLE;\n"),
    ).toHaveLength(1);
    expect(
      await restricted(
        'renderer/src/views/x.svelte',
        '<script lang="ts">\n  import { ERROR_TABLE } from \'../../../core/errors.js\';\n  export const t = ERROR_TABLE;\n</script>\n',
      ),
    ).toHaveLength(1);
  });

  it('the renderer may import the byte formatter (core/units.js) and no other core module beside it', async () => {
    expect(await restricted('renderer/src/lib/x.ts', "import { formatBytes } from '../../../core/units.js';\nexport const f = formatBytes;\n")).toEqual([]);
    expect(
      await restricted(
        'renderer/src/views/x.svelte',
        '<script lang="ts">\n  import { formatBytes } from \'../../../core/units.js\';\n  export const f = formatBytes;\n</script>\n',
      ),
    ).toEqual([]);
    // Where the findings' formatter used to live, and names that merely start like the allowed one.
    expect(
      await restricted('renderer/src/lib/x.ts', "import { checkTarget } from '../../../core/platforms/rules.js';\nexport const c = checkTarget;\n"),
    ).toHaveLength(1);
    expect(await restricted('renderer/src/lib/x.ts', "import { u } from '../../../core/units-node.js';\nexport const x = u;\n")).toHaveLength(1);
    expect(await restricted('renderer/src/lib/x.ts', "import { u } from '../../../core/wasm/units.js';\nexport const x = u;\n")).toHaveLength(1);
  });

  it('core/units.ts is browser-safe: its own source passes the renderer rules', async () => {
    const source = readFileSync(path.join(ROOT, 'core/units.ts'), 'utf8');
    expect(await restricted('renderer/src/lib/units-copy.ts', source)).toEqual([]);
    expect(source).not.toMatch(/^\s*import\s/m);
  });
});

describe('layer rules do not over-reach', () => {
  it('relative paths that merely contain a package name are not package imports', async () => {
    expect(await restricted('test/unit/x.test.ts', "import { CSP } from '../../electron/main/security.js';\nexport const c = CSP;\n")).toEqual([]);
    expect(await restricted('cli/x.ts', "import { listUsbDevices } from '../native-bridge/usb/index.js';\nexport const l = listUsbDevices;\n")).toEqual([]);
    expect(await restricted('cli/x.ts', "import { SerialPort } from '@serialport/stream';\nexport const s = SerialPort;\n")).toHaveLength(1);
  });
});
